package api

import (
	"embed"
	"io/fs"
	"net/http"
	"path"

	"github.com/gin-gonic/gin"
)

// The status page and its assets are embedded: no CDN, nothing to install.
//
//go:embed web
var web embed.FS

//go:embed openapi.json
var openapiDoc []byte

func (s *Server) page(c *gin.Context) {
	b, err := web.ReadFile("web/index.html")
	if err != nil {
		fail(c, http.StatusInternalServerError, err.Error())
		return
	}
	c.Header("Cache-Control", "no-cache")
	c.Header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:")
	c.Data(http.StatusOK, "text/html; charset=utf-8", b)
}

func (s *Server) static(c *gin.Context) {
	name := path.Clean("/" + c.Param("file"))
	b, err := fs.ReadFile(web, "web"+name)
	if err != nil || name == "/index.html" {
		fail(c, http.StatusNotFound, "no asset "+quote(name))
		return
	}
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	c.Data(http.StatusOK, types[path.Ext(name)], b)
}

func (s *Server) openapi(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openapiDoc)
}

// OpenAPI is the embedded OpenAPI 3 document.
func OpenAPI() []byte { return openapiDoc }
