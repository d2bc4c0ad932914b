package httpx

import (
	"strconv"
	"strings"
)

// Limits of Encoding.
const (
	// maxAcceptEncoding bounds the Accept-Encoding bytes read; values past
	// it are ignored.
	maxAcceptEncoding = 1024
	// maxOffers bounds the codings a server offers for one answer.
	maxOffers = 4
)

// Encoding picks the content coding of an answer from a request's
// Accept-Encoding values (RFC 9110 §12.5.3): of offers, in the server's
// order of preference, the one the client weighs highest; a tie goes to
// the earlier offer. "" means identity: no header, or no offer acceptable.
// An entry naming a coding decides for it ("x-gzip" names gzip); "*"
// weighs the offers no entry names. A quality of 0, or one that does not
// parse, refuses. Only the first 1 KiB of the header is read and only the
// first four offers count, so a request cannot make this expensive.
func Encoding(values []string, offers ...string) string {
	offers = offers[:min(len(offers), maxOffers)]
	q := [maxOffers]float64{-1, -1, -1, -1}
	star := -1.0
	total := 0
	for _, v := range values {
		if total += len(v); total > maxAcceptEncoding {
			break
		}
		for entry := range strings.SplitSeq(v, ",") {
			name, weight := parseCoding(entry)
			if name == "*" {
				star = weight
				continue
			}
			if strings.EqualFold(name, "x-gzip") {
				name = "gzip"
			}
			for i, o := range offers {
				if strings.EqualFold(name, o) {
					q[i] = weight
				}
			}
		}
	}
	best, bestQ := "", 0.0
	for i, o := range offers {
		w := q[i]
		if w < 0 {
			w = star
		}
		if w > bestQ {
			best, bestQ = o, w
		}
	}
	return best
}

// parseCoding parses one Accept-Encoding entry, "name;q=0.5", into its
// name and quality; q defaults to 1, and one that does not parse or lies
// outside [0, 1] counts as 0.
func parseCoding(entry string) (string, float64) {
	name, params, _ := strings.Cut(entry, ";")
	q := 1.0
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || f > 1 {
			f = 0
		}
		q = f
	}
	return strings.TrimSpace(name), q
}
