// Package remote is the origin whose media lives on other nodes: the
// remote-origin protocol (ALPN "classmesh-origin/1") over the cluster's
// QUIC transport, both sides.
//
//   - Origin (client.go, object.go) is an origin.Origin for a node with no
//     media of its own: it lists and reads the libraries of the cluster's
//     origin-role members. It takes from the cluster only the Cluster
//     interface declared here (the origin members, a stream to one of
//     them), so this package never imports cluster.
//   - Server (server.go) answers LIST, STAT and READ from this node's own
//     library (an origin.Dir or origin.HTTP); node registers
//     Server.HandleStream on the transport for ALPN.
//
// The wire format (proto.go) uses the framing of internal/frame. Every
// request is one stream: the client writes one request frame and closes
// its side; the server answers one response frame and, for a successful
// LIST or READ, Size body bytes, then closes. Every path goes through
// origin.CleanPath on both sides, so a peer cannot name a file outside the
// library.
package remote
