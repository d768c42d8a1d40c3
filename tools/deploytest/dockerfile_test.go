package deploytest

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// makeBuild is `make build` for one service, read from the Makefile: the environment
// assignments and the go build words, with $(VERSION)/$(COMMIT) written as the Dockerfile's
// ${VERSION}/${COMMIT} and the output path (-o) dropped.
func makeBuild(t *testing.T, svc string) (env, argv []string) {
	t.Helper()
	mk := string(readFile(t, "Makefile"))
	m := regexp.MustCompile(`(?m)^GO_BUILD_FLAGS\s*:?=\s*(.*)$`).FindStringSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile: no GO_BUILD_FLAGS")
	}
	flags := m[1]
	var recipe string
	sc := bufio.NewScanner(strings.NewReader(mk))
	for sc.Scan() {
		if strings.Contains(sc.Text(), "go build $(GO_BUILD_FLAGS)") {
			if recipe != "" {
				t.Fatal("Makefile: two go build recipes")
			}
			recipe = strings.TrimSpace(sc.Text())
		}
	}
	if recipe == "" {
		t.Fatal("Makefile: no `go build $(GO_BUILD_FLAGS)` recipe")
	}
	recipe, _, _ = strings.Cut(recipe, "||")
	recipe = strings.NewReplacer("$(GO_BUILD_FLAGS)", flags, "$$s", svc).Replace(recipe)
	recipe = strings.NewReplacer("$(VERSION)", "${VERSION}", "$(COMMIT)", "${COMMIT}").Replace(recipe)
	if strings.Contains(recipe, "$(") {
		t.Fatalf("Makefile recipe has an unknown make variable: %s", recipe)
	}
	words, err := ShellWords(recipe)
	if err != nil {
		t.Fatal(err)
	}
	env, argv = splitAssignments(words)
	return env, dropOutput(argv)
}

var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

func splitAssignments(words []string) (env, argv []string) {
	i := 0
	for i < len(words) && assignment.MatchString(words[i]) {
		i++
	}
	return words[:i], words[i:]
}

func dropOutput(argv []string) []string {
	var out []string
	for i := 0; i < len(argv); i++ {
		if argv[i] == "-o" {
			i++
			continue
		}
		out = append(out, argv[i])
	}
	return out
}

// goWorkModules returns the `use` directories of go.work.
func goWorkModules(t *testing.T) (goVersion string, dirs []string) {
	t.Helper()
	inUse := false
	for _, line := range strings.Split(string(readFile(t, "go.work")), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "go "):
			goVersion = strings.TrimPrefix(line, "go ")
		case line == "use (":
			inUse = true
		case inUse && line == ")":
			inUse = false
		case inUse && line != "":
			dirs = append(dirs, filepath.Clean(line))
		case strings.HasPrefix(line, "use "):
			dirs = append(dirs, filepath.Clean(strings.TrimPrefix(line, "use ")))
		}
	}
	return goVersion, dirs
}

func TestDockerfilesBuildAsMakeBuild(t *testing.T) {
	goVersion, modules := goWorkModules(t)
	for _, svc := range Services() {
		t.Run(svc.Name, func(t *testing.T) {
			stages, err := ParseDockerfile(readFile(t, filepath.Join("services", svc.Name, "Dockerfile")))
			if err != nil {
				t.Fatal(err)
			}
			if len(stages) < 2 {
				t.Fatalf("want a multi-stage build, got %d stage(s)", len(stages))
			}
			build, final := stages[0], stages[len(stages)-1]

			// Build stage: the workspace's Go release, the same go build as make build.
			if !strings.HasPrefix(build.From, "golang:"+goVersion) {
				t.Errorf("build stage FROM %s, want golang:%s (go.work)", build.From, goVersion)
			}
			env := map[string]string{}
			for _, in := range build.Find("ENV") {
				for _, kv := range strings.Fields(in.Args) {
					k, v, _ := strings.Cut(kv, "=")
					env[k] = v
				}
			}
			args := map[string]bool{}
			wantEnv, wantArgv := makeBuild(t, svc.Name)
			var found bool
			for _, in := range build.Instructions {
				if in.Cmd == "ARG" {
					name, _, _ := strings.Cut(in.Args, "=")
					args[name] = true
				}
				if in.Cmd != "RUN" {
					continue
				}
				words, err := ShellWords(in.Args)
				if err != nil {
					t.Fatal(err)
				}
				for _, cmd := range Commands(words) {
					assign, argv := splitAssignments(cmd)
					if len(argv) < 2 || argv[0] != "go" || argv[1] != "build" || !slices.Contains(argv, wantArgv[len(wantArgv)-1]) {
						continue
					}
					found = true
					if got := dropOutput(argv); !slices.Equal(got, wantArgv) {
						t.Errorf("go build differs from make build:\n got  %q\n want %q", got, wantArgv)
					}
					for _, kv := range wantEnv {
						k, v, _ := strings.Cut(kv, "=")
						if !slices.Contains(assign, kv) && env[k] != v {
							t.Errorf("%s is not set for the go build", kv)
						}
					}
					for _, a := range []string{"VERSION", "COMMIT"} {
						if !args[a] {
							t.Errorf("ARG %s is not declared before the go build (the stamp would be empty)", a)
						}
					}
				}
			}
			if !found {
				t.Fatalf("no RUN builds %s", wantArgv[len(wantArgv)-1])
			}

			// -X silently does nothing for a symbol that is not a string variable: make sure
			// main.version and main.commit exist where the stamp goes.
			checkStampTargets(t, filepath.Join(repoRoot(t), filepath.FromSlash(wantArgv[len(wantArgv)-1])), wantArgv)

			// The image documents the ports the service listens on.
			loadedCfg, err := svc.Load(map[string]string{})
			if err != nil {
				t.Fatalf("defaults do not load: %v", err)
			}
			var exposed []string
			for _, in := range final.Find("EXPOSE") {
				exposed = append(exposed, strings.Fields(in.Args)...)
			}
			for _, addr := range []string{loadedCfg.OpsAddr, loadedCfg.HTTPAddr} {
				if addr == "" {
					continue
				}
				if p, err := Port(addr); err != nil || !slices.Contains(exposed, p) {
					t.Errorf("EXPOSE %v misses the default listen address %s", exposed, addr)
				}
			}

			// The workspace is complete: go.work and every module's go.mod are copied.
			copied := map[string]bool{}
			for _, in := range build.Find("COPY") {
				f := strings.Fields(in.Args)
				for _, src := range f[:len(f)-1] {
					copied[filepath.Clean(src)] = true
				}
			}
			for _, need := range append([]string{"go.work"}, modulesGoMod(modules)...) {
				if !copied[need] {
					t.Errorf("the build stage does not copy %s (go.work needs it)", need)
				}
			}

			// Runtime stage: distroless static, non-root, no shell used, the binary as entrypoint.
			if !strings.HasPrefix(final.From, "gcr.io/distroless/static") || !strings.HasSuffix(final.From, ":nonroot") {
				t.Errorf("runtime stage FROM %s, want gcr.io/distroless/static...:nonroot", final.From)
			}
			if runs := final.Find("RUN"); len(runs) > 0 {
				t.Errorf("the runtime stage runs commands (it has no shell): %v", runs)
			}
			users := final.Find("USER")
			if len(users) == 0 {
				t.Error("no USER in the runtime stage")
			} else if u := users[len(users)-1].Args; u == "0" || strings.HasPrefix(u, "0:") || strings.HasPrefix(u, "root") {
				t.Errorf("runs as %s", u)
			}
			eps := final.Find("ENTRYPOINT")
			if len(eps) != 1 {
				t.Fatal("want one ENTRYPOINT")
			}
			argv, ok := ExecForm(eps[0].Args)
			if !ok || len(argv) != 1 || filepath.Base(argv[0]) != svc.Name {
				t.Errorf("ENTRYPOINT %s, want the exec form of the %s binary", eps[0].Args, svc.Name)
			}
			if !slices.ContainsFunc(final.Find("COPY"), func(in Instruction) bool {
				return slices.Contains(in.Flags, "--from="+build.Name) && strings.Contains(in.Args, "/"+svc.Name+" ")
			}) {
				t.Errorf("the runtime stage does not copy the %s binary from the build stage", svc.Name)
			}
		})
	}
}

func modulesGoMod(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		out = append(out, filepath.Join(d, "go.mod"))
	}
	return out
}

// TestDockerBuildContextResolves replays each build stage's COPY instructions (with
// .dockerignore) into a temporary directory and asks the go command to load every package the
// stage builds, offline. A service that starts importing code the image does not copy, or a
// go:embed of a file left out, fails here instead of in `docker build`.
func TestDockerBuildContextResolves(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	root := repoRoot(t)
	ignore := dockerignore(t)
	for _, private := range []string{".env", ".git", filepath.Join("services", "x", "node_modules", "y")} {
		if !ignore(private) {
			t.Errorf(".dockerignore lets %s into the build context", private)
		}
	}
	for _, svc := range Services() {
		t.Run(svc.Name, func(t *testing.T) {
			t.Parallel()
			stages, err := ParseDockerfile(readFile(t, filepath.Join("services", svc.Name, "Dockerfile")))
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.TempDir()
			workdir := ctx
			var pkgs []string
			for _, in := range stages[0].Instructions {
				switch in.Cmd {
				case "WORKDIR":
					workdir = filepath.Join(ctx, in.Args)
				case "COPY":
					if len(in.Flags) > 0 {
						continue
					}
					f := strings.Fields(in.Args)
					dest := f[len(f)-1]
					for _, src := range f[:len(f)-1] {
						if err := copyIn(root, src, filepath.Join(workdir, dest), strings.HasSuffix(dest, "/") || len(f) > 2, ignore); err != nil {
							t.Fatal(err)
						}
					}
				case "RUN":
					words, _ := ShellWords(in.Args)
					for _, cmd := range Commands(words) {
						_, argv := splitAssignments(cmd)
						if len(argv) > 2 && argv[0] == "go" && argv[1] == "build" {
							pkgs = append(pkgs, argv[len(argv)-1])
						}
					}
				}
			}
			if len(pkgs) == 0 {
				t.Fatal("no go build in the build stage")
			}
			cmd := exec.Command("go", append([]string{"list", "-deps", "-f", "{{if .Error}}{{.Error}}{{end}}"}, pkgs...)...)
			cmd.Dir = workdir
			cmd.Env = append(os.Environ(), "GOWORK=", "GOFLAGS=-mod=readonly", "GOPROXY=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || len(bytes.TrimSpace(out)) > 0 {
				t.Fatalf("the image's build context does not resolve %v: %v\n%s%s", pkgs, err, out, stderr.Bytes())
			}
		})
	}
}

// dockerignore reads .dockerignore, accepting only the forms the replay implements.
func dockerignore(t *testing.T) func(rel string) bool {
	t.Helper()
	var exact, anywhere []string
	for _, line := range strings.Split(string(readFile(t, ".dockerignore")), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "**/") && !strings.ContainsAny(line[3:], "*?[!/"):
			anywhere = append(anywhere, line[3:])
		case !strings.ContainsAny(line, "*?[!"):
			exact = append(exact, filepath.Clean(line))
		default:
			t.Fatalf(".dockerignore: pattern %q is not one this test replays; use a plain path or **/name", line)
		}
	}
	return func(rel string) bool {
		for _, e := range exact {
			if rel == e || strings.HasPrefix(rel, e+string(filepath.Separator)) {
				return true
			}
		}
		for _, part := range strings.Split(rel, string(filepath.Separator)) {
			if slices.Contains(anywhere, part) {
				return true
			}
		}
		return false
	}
}

// copyIn does what COPY src dest does for a file or a directory (whose contents are copied).
func copyIn(root, src, dest string, destIsDir bool, ignored func(string) bool) error {
	src = filepath.Clean(src)
	info, err := os.Stat(filepath.Join(root, src))
	if err != nil {
		return fmt.Errorf("COPY %s: %w", src, err)
	}
	if !info.IsDir() {
		if ignored(src) {
			return fmt.Errorf("COPY %s: excluded by .dockerignore", src)
		}
		if destIsDir {
			dest = filepath.Join(dest, filepath.Base(src))
		}
		return copyFile(filepath.Join(root, src), dest)
	}
	return filepath.WalkDir(filepath.Join(root, src), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if ignored(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		inner, _ := filepath.Rel(filepath.Join(root, src), p)
		return copyFile(p, filepath.Join(dest, inner))
	})
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

func TestShellWordsAndDockerfileParser(t *testing.T) {
	w, err := ShellWords(`A=1 go build -ldflags "-s -X main.v=${V}" -o 'x y' ./p && echo \"hi\"; true`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A=1", "go", "build", "-ldflags", "-s -X main.v=${V}", "-o", "x y", "./p", "&&", "echo", `"hi"`, ";", "true"}
	if !slices.Equal(w, want) {
		t.Fatalf("got %q", w)
	}
	if len(Commands(w)) != 3 {
		t.Fatalf("commands: %q", Commands(w))
	}
	if _, err := ShellWords(`echo "open`); err == nil {
		t.Fatal("unterminated quote accepted")
	}
	st, err := ParseDockerfile([]byte("# c\nARG X\nFROM a AS b\nRUN --mount=type=cache,target=/c \\\n  go build \\\n  ./p\nFROM c\nENTRYPOINT [\"/x\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || st[0].Name != "b" || st[0].Instructions[0].Args != "go build ./p" || st[0].Instructions[0].Line != 4 ||
		st[0].Instructions[0].Flags[0] != "--mount=type=cache,target=/c" {
		t.Fatalf("parsed %+v", st)
	}
	if _, err := ParseDockerfile([]byte("RUN x\n")); err == nil {
		t.Fatal("RUN before FROM accepted")
	}
	if _, err := ParseDockerfile([]byte("FROM a\nRUN x \\\n")); err == nil {
		t.Fatal("dangling continuation accepted")
	}
}

// checkStampTargets parses the main package in dir and checks that every -X main.NAME=... in
// argv's -ldflags names a package-level string variable there.
func checkStampTargets(t *testing.T, dir string, argv []string) {
	t.Helper()
	i := slices.Index(argv, "-ldflags")
	if i < 0 || i+1 >= len(argv) {
		t.Fatal("no -ldflags")
	}
	ld := strings.Fields(argv[i+1])
	var names []string
	for j := 0; j+1 < len(ld); j++ {
		if ld[j] == "-X" {
			sym, _, _ := strings.Cut(ld[j+1], "=")
			pkg, name, _ := strings.Cut(sym, ".")
			if pkg != "main" {
				t.Errorf("-X %s: only main's variables are stamped", sym)
			}
			names = append(names, name)
		}
	}
	if !slices.Contains(names, "version") || !slices.Contains(names, "commit") {
		t.Errorf("-ldflags %q does not stamp main.version and main.commit", argv[i+1])
	}
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	mainPkg, ok := pkgs["main"]
	if !ok {
		t.Fatalf("%s is not package main", dir)
	}
	vars := map[string]bool{}
	for _, f := range mainPkg.Files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for k, n := range vs.Names {
					isString := false
					if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "string" {
						isString = true
					}
					if vs.Type == nil && k < len(vs.Values) {
						if lit, ok := vs.Values[k].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							isString = true
						}
					}
					vars[n.Name] = isString
				}
			}
		}
	}
	for _, n := range names {
		if !vars[n] {
			t.Errorf("%s: -X main.%s has no package-level string variable %s to set", dir, n, n)
		}
	}
}
