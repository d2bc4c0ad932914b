// Package player serves the browser side of a classmesh node: the course page
// (/), the player page (/watch/{id}) and their bundled scripts and styles
// (/assets/...).
//
// The pages are plain HTML, CSS and JavaScript built from src/ by esbuild
// ("make player", or "npm ci && npm run build" in this directory) into dist/,
// which is embedded into the Go binary. A fresh clone holds only
// dist/.gitkeep; the handler then answers 503 with instructions instead of
// failing to compile.
package player

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed all:dist
var embedded embed.FS

// Assets returns the embedded build output, rooted at dist/.
func Assets() fs.FS {
	sub, err := fs.Sub(embedded, "dist")
	if err != nil {
		// fs.Sub fails only for an invalid directory name, which "dist" is not.
		panic("player: " + err.Error())
	}
	return sub
}

// Handler serves the embedded pages and assets. See NewHandler.
func Handler() http.Handler {
	return NewHandler(Assets())
}
