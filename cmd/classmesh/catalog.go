package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/classmesh/classmesh/control/api"
	"github.com/classmesh/classmesh/control/api/client"
)

// column is one column of a "catalog KIND list" table: key is the JSON
// field, count shows the length of an array instead of its items.
type column struct {
	header, key string
	count       bool
}

// catalogKinds maps each collection under /api/v1/ to its table columns.
var catalogKinds = map[string][]column{
	"courses":  {{"ID", "id", false}, {"TITLE", "title", false}, {"VISIBILITY", "visibility", false}, {"MODULES", "modules", true}},
	"modules":  {{"ID", "id", false}, {"TITLE", "title", false}, {"COURSE", "course_id", false}, {"LESSONS", "lessons", true}},
	"lessons":  {{"ID", "id", false}, {"TITLE", "title", false}, {"COURSE", "course_id", false}, {"MODULE", "module_id", false}, {"ASSET", "asset_id", false}},
	"assets":   {{"ID", "id", false}, {"TITLE", "title", false}, {"STATUS", "status", false}, {"DURATION", "duration", false}, {"RENDITIONS", "renditions", true}},
	"sessions": {{"ID", "id", false}, {"TITLE", "title", false}, {"COURSE", "course_id", false}, {"STATE", "state", false}, {"START", "scheduled_start", false}},
	"sites":    {{"NAME", "name", false}, {"CIDRS", "cidrs", false}, {"P2P", "p2p_policy", false}},
	"keys":     {{"KID", "kid", false}, {"NOT BEFORE", "not_before", false}, {"NOT AFTER", "not_after", false}, {"ACTIVE", "active", false}},
	"tokens":   {{"ID", "id", false}, {"ROLE", "role", false}, {"COURSES", "courses", false}},
}

const catalogUsage = `Usage: classmesh catalog KIND OPERATION [ID] [flags]

KIND is one of: courses, modules, lessons, assets, sessions, sites, keys, tokens.
"assets list" and "assets get" show the assets as the node serves them: the
catalog record merged with what that node packages.

Operations:
  list                 a table of the records (--json for the API's JSON)
  get ID               one record as JSON
  create               a new record from --file and/or --set
  update ID            change a record: the current record (or --file) with
                       the --set changes applied. Without --if-match the
                       record is read first and its revision is used, so an
                       update may overwrite a change made in between; give
                       --if-match REV to fail with 409 Conflict instead.
  delete ID            remove a record (--if-match REV to guard it)
  history ID           every revision of a record (--json for the JSON)
  rollback ID --to REV restore a record as it was at revision REV

--set key=value may be repeated; a value that is valid JSON is used as JSON
(--set modules='["m2","m1"]', --set duration=12.5), any other as a string.
--file F reads a JSON object from F (- for standard input).

Writes need a bearer token: --token or CLASSMESH_TOKEN (a new node writes
its admin token to DATA_DIR/admin-token).

Examples:
  classmesh catalog courses create --set id=phys --set title=Physics --set visibility=private
  classmesh catalog courses update phys --set title="Physics I"
  classmesh catalog lessons list --json

Flags:
`

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// catalogFlags are the flags every catalog operation accepts.
type catalogFlags struct {
	*nodeFlags
	file, ifMatch *string
	to            *uint64
	asJSON        *bool
	sets          stringList
}

func newCatalogFlags(fs *flag.FlagSet) *catalogFlags {
	f := &catalogFlags{nodeFlags: apiFlags(fs)}
	f.asJSON = fs.Bool("json", false, `print JSON instead of a table or a summary (list, history: {"items": [...]})`)
	f.file = fs.String("file", "", "read the record, a JSON object, from this file (- for standard input)")
	f.ifMatch = fs.String("if-match", "", "the revision an update or delete is based on (409 Conflict if it changed)")
	f.to = fs.Uint64("to", 0, "rollback: the revision to restore")
	fs.Var(&f.sets, "set", "key=value to set in the record (repeatable; the value is JSON when valid)")
	return f
}

// parseInterleaved parses flags that may come before or after positional
// arguments and returns the positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func catalogCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("catalog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := newCatalogFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), catalogUsage)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitParse(err)
	}
	if len(pos) < 2 {
		fs.Usage()
		return 2
	}
	kind, op, ids := pos[0], pos[1], pos[2:]
	if _, ok := catalogKinds[kind]; !ok {
		fmt.Fprintf(stderr, "classmesh catalog: unknown kind %q (want one of %s)\n", kind, strings.Join(kindNames(), ", "))
		return 2
	}
	wantID := op != "list" && op != "create"
	if (wantID && len(ids) != 1) || (!wantID && len(ids) != 0) {
		fmt.Fprintf(stderr, "classmesh catalog: %s %s: wrong number of arguments\n\n", kind, op)
		fs.Usage()
		return 2
	}
	c, err := f.client()
	if err != nil {
		return f.fail(stderr, "catalog", err)
	}
	recs, err := c.Records(kind)
	if err != nil {
		return f.fail(stderr, "catalog", err)
	}
	cc := &catalogCall{recs: recs, f: f, kind: kind, out: stdout}
	var id string
	if wantID {
		id = ids[0]
	}
	if err := cc.run(ctx, op, id); err != nil {
		return f.fail(stderr, "catalog", err)
	}
	return 0
}

func kindNames() []string {
	names := client.Paths()
	sort.Strings(names)
	return names
}

// catalogCall is one "classmesh catalog KIND OP" invocation.
type catalogCall struct {
	recs *client.Collection[client.Record]
	f    *catalogFlags
	kind string
	out  io.Writer
}

func (cc *catalogCall) run(ctx context.Context, op, id string) error {
	switch op {
	case "list":
		var items []client.Record
		err := retry(ctx, func() (err error) { items, err = cc.recs.List(ctx, client.ReadOptions{}); return err })
		if err != nil {
			return err
		}
		return cc.table(items, false)
	case "history":
		var items []client.Record
		err := retry(ctx, func() (err error) { items, err = cc.recs.History(ctx, id, client.ReadOptions{}); return err })
		if err != nil {
			return err
		}
		return cc.table(items, true)
	case "get":
		var rec client.Record
		err := retry(ctx, func() (err error) { rec, err = cc.recs.Get(ctx, id, client.ReadOptions{}); return err })
		if err != nil {
			return err
		}
		return printJSON(cc.out, rec)
	case "create":
		return cc.create(ctx)
	case "update":
		return cc.update(ctx, id)
	case "delete":
		if err := retry(ctx, func() error { return cc.recs.Delete(ctx, id, *cc.f.ifMatch) }); err != nil {
			return err
		}
		fmt.Fprintf(cc.out, "deleted %s %s\n", strings.TrimSuffix(cc.kind, "s"), id)
		return nil
	case "rollback":
		if *cc.f.to == 0 {
			return fmt.Errorf("%w: rollback needs --to REVISION (see history)", errUsage)
		}
		var rec client.Record
		err := retry(ctx, func() (err error) { rec, err = cc.recs.Rollback(ctx, id, *cc.f.to, *cc.f.ifMatch); return err })
		if err != nil {
			return err
		}
		return cc.summary("rolled back", rec)
	}
	return fmt.Errorf("%w: unknown operation %q (want %s)", errUsage, op, strings.Join(catalogOps, ", "))
}

// table prints records as the kind's columns (history: revision and time
// first), or with --json as {"items": [...]} whatever the kind (GET
// /api/v1/assets answers a bare array).
func (cc *catalogCall) table(items []client.Record, history bool) error {
	if *cc.f.asJSON {
		if items == nil {
			items = []client.Record{}
		}
		return printJSON(cc.out, api.List[client.Record]{Items: items})
	}
	cols := catalogKinds[cc.kind]
	if history {
		cols = append([]column{{"REVISION", "revision", false}, {"UPDATED", "updated_at", false}}, cols[1:]...)
	} else {
		cols = append(cols, column{"REVISION", "revision", false})
	}
	tw := tabwriter.NewWriter(cc.out, 0, 4, 2, ' ', 0)
	heads := make([]string, len(cols))
	for i, c := range cols {
		heads[i] = c.header
	}
	fmt.Fprintln(tw, strings.Join(heads, "\t"))
	for _, it := range items {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = cell(it[c.key], c.count)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// cell renders one JSON value for a table.
func cell(v any, count bool) string {
	switch v := v.(type) {
	case nil:
		return "-"
	case string:
		if v == "" {
			return "-"
		}
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case []any:
		if count {
			return strconv.Itoa(len(v))
		}
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = cell(x, false)
		}
		if len(parts) == 0 {
			return "-"
		}
		return strings.Join(parts, ",")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (cc *catalogCall) create(ctx context.Context) error {
	body, err := buildRecord(nil, *cc.f.file, cc.f.sets)
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return fmt.Errorf("%w: create needs --file or --set", errUsage)
	}
	var rec client.Record
	if err := retry(ctx, func() (err error) { rec, err = cc.recs.Create(ctx, body); return err }); err != nil {
		return err
	}
	return cc.summary("created", rec)
}

// update PUTs the record: --file (or else the current record) with the
// --set changes; the revision is --if-match or else the current one. The
// current record is the stored one (client.Collection.Stored): for assets
// GET answers the node's packaged view, which PUT does not take back.
func (cc *catalogCall) update(ctx context.Context, id string) error {
	var cur client.Record
	rev := *cc.f.ifMatch
	if rev == "" || *cc.f.file == "" {
		err := retry(ctx, func() (err error) { cur, err = cc.recs.Stored(ctx, id); return err })
		if err != nil {
			return err
		}
		if rev == "" {
			rev = cell(cur["revision"], false)
		}
	}
	if *cc.f.file != "" {
		cur = nil
	} else if len(cc.f.sets) == 0 {
		return fmt.Errorf("%w: update needs --file or --set", errUsage)
	}
	body, err := buildRecord(cur, *cc.f.file, cc.f.sets)
	if err != nil {
		return err
	}
	delete(body, "revision")
	delete(body, "updated_at")
	var rec client.Record
	if err := retry(ctx, func() (err error) { rec, err = cc.recs.Update(ctx, id, rev, body); return err }); err != nil {
		return err
	}
	return cc.summary("updated", rec)
}

// summary prints a written record: JSON with --json, else one line plus
// any secret the API returns only once.
func (cc *catalogCall) summary(verb string, rec client.Record) error {
	if *cc.f.asJSON {
		return printJSON(cc.out, rec)
	}
	id := rec["id"]
	if id == nil {
		id = rec["name"]
	}
	if id == nil {
		id = rec["kid"]
	}
	fmt.Fprintf(cc.out, "%s %s %s (revision %s)\n", verb, strings.TrimSuffix(cc.kind, "s"), cell(id, false), cell(rec["revision"], false))
	for _, k := range []string{"token", "stream_key"} {
		if s, ok := rec[k].(string); ok && s != "" {
			fmt.Fprintf(cc.out, "%s: %s\n(shown only once: store it now)\n", k, s)
		}
	}
	return nil
}

// buildRecord starts from base (copied), replaces it with the JSON object
// in file if given (- is standard input) and applies sets.
func buildRecord(base map[string]any, file string, sets []string) (map[string]any, error) {
	rec := map[string]any{}
	for k, v := range base {
		rec[k] = v
	}
	if file != "" {
		var b []byte
		var err error
		if file == "-" {
			b, err = io.ReadAll(os.Stdin)
		} else {
			b, err = os.ReadFile(file)
		}
		if err != nil {
			return nil, err
		}
		rec = map[string]any{}
		if err := json.Unmarshal(b, &rec); err != nil || rec == nil {
			return nil, fmt.Errorf("%w: %s must hold one JSON object: %v", errUsage, file, err)
		}
	}
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: --set %q: want key=value", errUsage, s)
		}
		var jv any
		if json.Unmarshal([]byte(v), &jv) == nil {
			rec[k] = jv
		} else {
			rec[k] = v
		}
	}
	return rec, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
