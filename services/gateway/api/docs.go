package api

import (
	"embed"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/solcrowd/backend/libs/apperr"
)

// docsFiles are the interactive docs page and its Swagger UI assets (see docsui/VERSION.md); they
// are embedded so the page works offline and loads nothing from a CDN.
//
//go:embed docsui/index.html docsui/init.js docsui/swagger-ui-bundle.js docsui/swagger-ui.css
var docsFiles embed.FS

var docsAssets = map[string]string{
	"swagger-ui-bundle.js": "text/javascript; charset=utf-8",
	"swagger-ui.css":       "text/css; charset=utf-8",
	"init.js":              "text/javascript; charset=utf-8",
}

func (s *Server) docsRoutes(r *gin.Engine) {
	r.GET("/openapi.json", func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json", s.spec)
	})
	r.GET("/docs", func(c *gin.Context) {
		b, _ := docsFiles.ReadFile("docsui/index.html")
		c.Data(http.StatusOK, "text/html; charset=utf-8", b)
	})
	r.GET("/docs/:asset", func(c *gin.Context) {
		name := c.Param("asset")
		ct, ok := docsAssets[name]
		if !ok {
			fail(c, apperr.NotFoundf("no such docs asset"))
			return
		}
		b, err := docsFiles.ReadFile("docsui/" + name)
		if err != nil {
			fail(c, err)
			return
		}
		c.Header("Cache-Control", "public, max-age=86400")
		c.Data(http.StatusOK, ct, b)
	})
}
