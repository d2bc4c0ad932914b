package wire

// Policy is a site's peer-to-peer policy: the "policy" of welcome.
type Policy string

// Policies (the same strings as the catalog's site p2p_policy).
const (
	PolicyOn           Policy = "on"
	PolicyOff          Policy = "off"
	PolicyDownloadOnly Policy = "download-only"
)

// Valid reports whether p is one of the three policies.
func (p Policy) Valid() bool {
	return p == PolicyOn || p == PolicyOff || p == PolicyDownloadOnly
}
