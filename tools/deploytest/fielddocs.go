package deploytest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
)

// modulePath is the module prefix of this repository's packages.
const modulePath = "github.com/solcrowd/backend/"

// FieldDocs reads the first sentence of each env-tagged field's doc comment from the source of
// the services' Config structs (and the structs they embed), keyed by variable name. root is the
// repository root. Fields without a comment are absent; unreadable sources give what was found.
func FieldDocs(root string, svcs []Service) map[string]string {
	docs := map[string]string{}
	seen := map[string]bool{}
	for _, s := range svcs {
		collectDocs(root, reflect.TypeOf(s.zero), docs, seen)
	}
	return docs
}

func collectDocs(root string, t reflect.Type, docs map[string]string, seen map[string]bool) {
	key := t.PkgPath() + "." + t.Name()
	if seen[key] || !strings.HasPrefix(t.PkgPath(), modulePath) {
		return
	}
	seen[key] = true
	for i := range t.NumField() {
		if f := t.Field(i); f.Anonymous && f.Type.Kind() == reflect.Struct {
			collectDocs(root, f.Type, docs, seen)
		}
	}
	dir := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(t.PkgPath(), modulePath)))
	pkgs, err := parser.ParseDir(token.NewFileSet(), dir, nil, parser.ParseComments)
	if err != nil {
		return
	}
	for _, pkg := range pkgs {
		for _, file := range pkg.Files {
			ast.Inspect(file, func(n ast.Node) bool {
				ts, ok := n.(*ast.TypeSpec)
				if !ok || ts.Name.Name != t.Name() {
					return true
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					return false
				}
				for _, f := range st.Fields.List {
					if f.Tag == nil {
						continue
					}
					name, _, _ := strings.Cut(reflect.StructTag(strings.Trim(f.Tag.Value, "`")).Get("env"), ",")
					text := ""
					if f.Doc != nil {
						text = f.Doc.Text()
					} else if f.Comment != nil {
						text = f.Comment.Text()
					}
					if name == "" || name == "-" || text == "" {
						continue
					}
					// "OpsAddr serves ..." reads better as "CAMPAIGN_OPS_ADDR serves ...".
					if len(f.Names) == 1 && strings.HasPrefix(text, f.Names[0].Name+" ") {
						text = name + text[len(f.Names[0].Name):]
					}
					docs[name] = firstSentence(text)
				}
				return false
			})
		}
	}
}

func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	return s
}
