package config

import (
	"log/slog"
	"reflect"
	"strings"
)

// Attrs returns the effective configuration as slog attributes, one per variable, with Secret
// values masked and passwords in URLs redacted, so a service can log its config at start.
func Attrs(cfg any) []any {
	v := reflect.ValueOf(cfg)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	var out []any
	collect(v, "", &out)
	return out
}

var secretType = reflect.TypeOf(Secret(""))

func collect(v reflect.Value, prefix string, out *[]any) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		if f.Type.Kind() == reflect.Struct && name == "" {
			collect(fv, prefix+f.Tag.Get("envPrefix"), out)
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		name = prefix + name
		switch {
		case f.Type == secretType:
			*out = append(*out, slog.String(name, fv.Interface().(Secret).String()))
		case f.Type.Kind() == reflect.String && strings.Contains(fv.String(), "://"):
			*out = append(*out, slog.String(name, RedactURL(fv.String())))
		default:
			*out = append(*out, slog.Any(name, fv.Interface()))
		}
	}
}
