package api

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"reflect"
	"strings"
	"time"
	"unicode"

	"github.com/classmesh/classmesh/control"
)

var update = flag.Bool("update", false, "rewrite openapi.json from the route table")

type obj = map[string]any

var timeType = reflect.TypeFor[time.Time]()

// schemaOf describes a Go type as an OpenAPI schema, flattening embedded
// structs the way encoding/json does.
func schemaOf(t reflect.Type) obj {
	switch {
	case t == timeType:
		return obj{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.Pointer:
		s := schemaOf(t.Elem())
		s["nullable"] = true
		return s
	}
	switch t.Kind() {
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Uint64:
		return obj{"type": "integer"}
	case reflect.Float64:
		return obj{"type": "number"}
	case reflect.Slice:
		return obj{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Struct:
		props := obj{}
		addFields(t, props)
		return obj{"type": "object", "properties": props}
	}
	return obj{}
}

func addFields(t reflect.Type, props obj) {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" {
			addFields(f.Type, props)
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		props[name] = schemaOf(f.Type)
	}
}

// viewTypes are the response record types, by kind.
var viewTypes = map[control.Kind]reflect.Type{
	control.KindKey:   reflect.TypeFor[KeyView](),
	control.KindToken: reflect.TypeFor[TokenView](),
}

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func jsonContent(schema obj) obj { return obj{"application/json": obj{"schema": schema}} }

func errResp(desc string) obj { return obj{"description": desc, "content": jsonContent(ref("Error"))} }

// unavailable is the 503 of every operation.
var unavailable = obj{
	"description": "no leader reachable, or it died with the request in flight (code unavailable: not applied; " +
		"indeterminate: a write that may have been applied, read before retrying)",
	"headers": obj{"Retry-After": obj{"schema": obj{"type": "integer"}, "description": "seconds"}},
	"content": jsonContent(ref("Error")),
}

func buildOpenAPI() obj {
	schemas := obj{"Error": schemaOf(reflect.TypeFor[ErrorBody]())}
	for _, s := range kindSpecs {
		name := string(s.kind)
		in := reflect.TypeOf(s.newBody()).Elem()
		if in == reflect.TypeFor[keyBody]() {
			in = reflect.TypeFor[control.SigningKey]()
		}
		schemas[name+"_input"] = schemaOf(in)
		out, ok := viewTypes[s.kind]
		if !ok {
			out = in
		}
		schemas[name] = schemaOf(out)
		schemas[name+"_list"] = obj{"type": "object", "properties": obj{"items": obj{"type": "array", "items": ref(name)}}}
	}
	for field, doc := range fieldDocs {
		kind, name, _ := strings.Cut(field, ".")
		for _, schema := range []string{kind, kind + "_input"} {
			if p, ok := schemas[schema].(obj)["properties"].(obj)[name].(obj); ok {
				p["description"] = doc
			}
		}
	}
	created := func(base, secret string) obj {
		s := schemaOf(reflect.TypeOf(kindByPath(base).newBody()).Elem())
		s["properties"].(obj)[secret] = obj{"type": "string", "description": "returned only once"}
		return s
	}
	schemas["session_created"] = created("sessions", "stream_key")
	tc := schemaOf(reflect.TypeFor[TokenView]())
	tc["properties"].(obj)["token"] = obj{"type": "string", "description": "returned only once"}
	schemas["token_created"] = tc

	paths := obj{}
	for _, rt := range routes() {
		item, _ := paths[rt.pattern].(obj)
		if item == nil {
			item = obj{}
			paths[rt.pattern] = item
		}
		item[strings.ToLower(rt.method)] = operation(rt)
	}
	addNodeOperations(schemas, paths)
	paths[Prefix+"openapi.json"] = obj{"get": obj{
		"operationId": "openapi", "summary": "This document.", "security": []any{},
		"responses": obj{"200": obj{"description": "OpenAPI 3 document", "content": jsonContent(obj{"type": "object"})}},
	}}
	return obj{
		"openapi": "3.0.3",
		"info": obj{"title": "classmesh catalog API", "version": "1",
			"description": "Catalog of courses, modules, lessons, assets, live sessions, sites, signing keys and API tokens. " +
				"Reads are local unless ?consistency=linearizable; updates need If-Match with the record revision (ETag)."},
		"servers":    []any{obj{"url": "/"}},
		"security":   []any{obj{"bearer": []any{}}},
		"components": obj{"schemas": schemas, "securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer"}}},
		"paths":      paths,
	}
}

// fieldDocs describes the fields whose meaning is not plain from their
// name, as "kind.field".
var fieldDocs = map[string]string{
	"asset.course_id": "The course that owns the asset (admins set it). Linking the asset into a lesson, recording into it and " +
		"signing playback URLs for it need admin or an instructor of this course. Empty: owned by the course of the lessons " +
		"and sessions that use it when they all belong to one course, else by none (admins only). An update without it keeps the owner.",
	"course.title":       "No control or bidirectional control characters.",
	"course.description": "No control characters except tab and newlines, no bidirectional control characters.",
}

func kindByPath(p string) *kindSpec {
	for _, s := range kindSpecs {
		if s.path == p {
			return s
		}
	}
	return nil
}

var (
	idParam          = obj{"name": "id", "in": "path", "required": true, "schema": obj{"type": "string"}}
	consistencyParam = obj{"name": "consistency", "in": "query", "schema": obj{"type": "string", "enum": []string{"local", "linearizable"}}}
	revisionParam    = obj{"name": "revision", "in": "query", "required": true, "schema": obj{"type": "integer"}}
)

func ifMatch(required bool) obj {
	return obj{"name": "If-Match", "in": "header", "required": required, "schema": obj{"type": "string"},
		"description": `"<revision>" of the record (or ?if_match=<revision>)`}
}

func operation(rt route) obj {
	name := string(rt.spec.kind)
	op := obj{"operationId": opID(rt), "tags": []string{rt.spec.path}}
	resp := obj{"400": errResp("malformed request or invalid value (the field is named)"), "401": errResp("missing or invalid token"),
		"403": errResp("not allowed for this token"), "503": unavailable}
	one := obj{"description": "the record", "headers": obj{"ETag": obj{"schema": obj{"type": "string"}}}, "content": jsonContent(ref(name))}
	body := obj{"required": true, "content": jsonContent(ref(name + "_input"))}
	var params []any
	switch {
	case rt.method == http.MethodGet && rt.pattern == Prefix+rt.spec.path:
		op["summary"] = "List " + rt.spec.path + "."
		params = append(params, consistencyParam)
		resp["200"] = obj{"description": "the records", "content": jsonContent(ref(name + "_list"))}
	case rt.method == http.MethodPost && rt.pattern == Prefix+rt.spec.path:
		op["summary"] = "Create a " + name + " (the id is generated when the body has none)."
		op["requestBody"] = body
		created := ref(name)
		switch rt.spec.kind {
		case control.KindSession:
			created = ref("session_created")
		case control.KindToken:
			created = ref("token_created")
		}
		resp["201"] = obj{"description": "created", "content": jsonContent(created)}
		resp["409"], resp["413"], resp["422"] = errResp("already exists"), errResp("body too large"), errResp("invalid or missing reference")
	case strings.HasSuffix(rt.pattern, "/history"):
		op["summary"] = "The last revisions of a " + name + ", oldest first."
		params = append(params, idParam, consistencyParam)
		resp["200"] = obj{"description": "revisions", "content": jsonContent(ref(name + "_list"))}
		resp["404"] = errResp("no history")
	case strings.HasSuffix(rt.pattern, "/rollback"):
		op["summary"] = "Restore a revision of a " + name + " as a new revision."
		params = append(params, idParam, revisionParam, ifMatch(false))
		resp["200"], resp["404"], resp["409"], resp["422"] = one, errResp("revision not found"), errResp("stale If-Match"), errResp("missing reference")
	case strings.HasSuffix(rt.pattern, "/end"):
		op["summary"] = "End a live session."
		params = append(params, idParam, ifMatch(false))
		resp["200"], resp["404"], resp["409"] = one, errResp("not found"), errResp("stale If-Match")
	case rt.method == http.MethodGet:
		op["summary"] = "Get a " + name + "."
		params = append(params, idParam, consistencyParam)
		resp["200"], resp["404"] = one, errResp("not found")
	case rt.method == http.MethodPut:
		op["summary"] = "Replace a " + name + "."
		op["requestBody"] = body
		params = append(params, idParam, ifMatch(true))
		resp["200"], resp["404"], resp["409"] = one, errResp("not found"), errResp("stale If-Match (body has the current revision)")
		resp["413"], resp["422"], resp["428"] = errResp("body too large"), errResp("missing reference"), errResp("If-Match missing")
	case rt.method == http.MethodDelete:
		op["summary"] = "Delete a " + name + "."
		params = append(params, idParam, ifMatch(false))
		resp["204"], resp["404"], resp["409"] = obj{"description": "deleted"}, errResp("not found"), errResp("stale If-Match or still referenced")
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	op["responses"] = resp
	return op
}

func opID(rt route) string {
	last := rt.pattern[strings.LastIndex(rt.pattern, "/")+1:]
	verb := map[string]string{"GET": "get", "POST": "create", "PUT": "update", "DELETE": "delete"}[rt.method]
	switch {
	case last == rt.spec.path && rt.method == http.MethodGet:
		return "list_" + rt.spec.path
	case last == "history" || last == "rollback" || last == "end":
		return last + "_" + string(rt.spec.kind)
	}
	return verb + "_" + string(rt.spec.kind)
}

func marshalOpenAPI() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	err := enc.Encode(buildOpenAPI())
	return buf.Bytes(), err
}

func writeOpenAPI() error {
	b, err := marshalOpenAPI()
	if err != nil {
		return err
	}
	return os.WriteFile("openapi.json", b, 0o644)
}

// nodeRoute is an operation under /api/v1 that the node serves itself
// (node/api.go, node/api_catalog.go, node/api_cluster.go) with a shape
// of shapes.go, next to the catalog handler's routes.
type nodeRoute struct {
	method, pattern, id, summary string
	// in and out are the request and 2xx response types (nil: none).
	in, out reflect.Type
	// list: the response is a bare JSON array of out.
	list     bool
	status   string
	operator bool
}

// nodeRoutes are the node's own operations, described in openapi.json so
// that the client (control/api/client) is written against one document.
var nodeRoutes = []nodeRoute{
	{http.MethodGet, Prefix + "assets", "list_assets", "The assets as the answering node shows them: catalog records merged with what it packages. " +
		"A bare JSON array (the player reads it so), unlike every other collection.", nil, reflect.TypeFor[AssetView](), true, "200", false},
	{http.MethodGet, Prefix + "assets/{id}", "get_asset", "One asset as the answering node shows it (the stored record is the last item of its history).",
		nil, reflect.TypeFor[AssetView](), false, "200", false},
	{http.MethodPost, Prefix + "playback-tokens", "sign_playback_token", "Sign a playback token for one asset, course or live session (admins, or instructors of the owning course).",
		reflect.TypeFor[PlaybackTokenRequest](), reflect.TypeFor[PlaybackToken](), false, "201", false},
	{http.MethodGet, Prefix + "cluster/members", "list_members", "The cluster's members as the answering node sees them (operator: admin listener or admin token).",
		nil, reflect.TypeFor[Member](), true, "200", true},
	{http.MethodGet, Prefix + "cluster/keys", "list_gossip_keys", "Fingerprints of the installed gossip keys (operator).",
		nil, reflect.TypeFor[GossipKeys](), false, "200", true},
	{http.MethodPost, Prefix + "cluster/keys", "change_gossip_key", "Install, use or remove a gossip key on every live member (operator).",
		reflect.TypeFor[GossipKeyChange](), reflect.TypeFor[GossipKeyResult](), false, "200", true},
	{http.MethodGet, Prefix + "raft/status", "raft_status", "The answering node's view of the catalog's raft group (operator).",
		nil, reflect.TypeFor[RaftStatus](), false, "200", true},
}

// addNodeOperations adds the node's own operations to paths; the two GET
// asset routes replace the catalog handler's, which the node's more
// specific routes shadow.
func addNodeOperations(schemas, paths obj) {
	for _, nr := range nodeRoutes {
		name := schemaName(nr.out)
		schemas[name] = schemaOf(nr.out)
		out := ref(name)
		if nr.list {
			out = obj{"type": "array", "items": ref(name)}
		}
		resp := obj{nr.status: obj{"description": "ok", "content": jsonContent(out)},
			"401": errResp("missing or invalid token"), "403": errResp("not allowed for this token")}
		op := obj{"operationId": nr.id, "summary": nr.summary, "responses": resp}
		if strings.Contains(nr.pattern, "{id}") {
			op["parameters"] = []any{idParam}
			resp["404"] = errResp("not found or not visible")
		}
		if nr.in != nil {
			schemas[schemaName(nr.in)] = schemaOf(nr.in)
			op["requestBody"] = obj{"required": true, "content": jsonContent(ref(schemaName(nr.in)))}
			resp["400"], resp["422"] = errResp("malformed body"), errResp("invalid request")
		}
		if nr.operator {
			op["tags"] = []string{"operator"}
		} else {
			resp["503"] = unavailable
		}
		item, _ := paths[nr.pattern].(obj)
		if item == nil {
			item = obj{}
			paths[nr.pattern] = item
		}
		item[strings.ToLower(nr.method)] = op
	}
}

// schemaName is the schema name of a shape: AssetView is asset_view;
// RaftStatus, an alias of control.Stats, is raft_status.
func schemaName(t reflect.Type) string {
	if t == reflect.TypeFor[RaftStatus]() {
		return "raft_status"
	}
	var b strings.Builder
	for i, r := range t.Name() {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
