package arch

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// seamFile is the file in which a feature declares what other features
// may use of it: the interfaces it exports and the values they carry.
const seamFile = "seam.go"

// notForFeatures are the packages of the feature tier and below that a
// feature must not import, each with what to use instead.
var notForFeatures = map[string]string{
	"internal/router":         "features reach the core through module.Host",
	"internal/c2s":            "features see sessions as module.Conn and module.Session",
	"internal/s2s":            "other servers are reached through module.Host (Deliver), like local users",
	"internal/portable":       "portable asks features for their sections (module.UserData), not the other way round",
	"internal/admin":          "the admin surface uses features, not the other way round",
	"internal/tools/loadtest": "the load generator is a tool, not a dependency",
}

// TestFeatureSeam fails when a feature module imports the router (or c2s,
// portable, admin, the load generator) instead of using module.Host, when it names anything of another feature
// that the other's seam.go does not declare, and when a core package below
// the wiring imports a feature at all: features are wired together only in
// internal/server. Test files are not checked: tests may build a real
// router or another feature to drive the one they test.
func TestFeatureSeam(t *testing.T) {
	for _, v := range seamViolations(listPackages(t)) {
		t.Error(v)
	}
}

// seamViolations checks pkgs (see TestFeatureSeam) and describes each
// violation.
func seamViolations(pkgs []pkg) []string {
	dirs := map[string]string{} // internal name → directory
	for _, p := range pkgs {
		dirs[internalName(p.ImportPath)] = p.Dir
	}
	var out []string
	for _, p := range pkgs {
		name := internalName(p.ImportPath)
		isFeature := strings.HasPrefix(name, featurePrefix)
		tier, _ := tierOf(name)
		for _, imp := range p.Imports {
			dep := internalName(imp)
			switch {
			case dep == "":
			case isFeature && notForFeatures[dep] != "":
				out = append(out, fmt.Sprintf("%s imports %s: %s", name, dep, notForFeatures[dep]))
			case isFeature && strings.HasPrefix(dep, featurePrefix):
				out = append(out, crossFeature(p, name, imp, dirs[dep])...)
			case !isFeature && tier < featureTier+1 && strings.HasPrefix(dep, featurePrefix):
				out = append(out, fmt.Sprintf("%s imports feature %s: only internal/server wires features", name, dep))
			}
		}
	}
	return out
}

// crossFeature checks that p, a feature, names of the feature at import
// path imp (in directory depDir) only what its seam.go declares.
func crossFeature(p pkg, name, imp, depDir string) []string {
	dep := internalName(imp)
	allowed, err := seamNames(filepath.Join(depDir, seamFile))
	if err != nil {
		return []string{fmt.Sprintf("%s imports %s, which declares no seam (%s): %v", name, dep, seamFile, err)}
	}
	var out []string
	fset := token.NewFileSet()
	for _, f := range p.GoFiles {
		file, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, parser.SkipObjectResolution)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		local := importName(file, imp)
		if local == "" {
			continue
		}
		ast.Inspect(file, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == local && !allowed[sel.Sel.Name] {
				out = append(out, fmt.Sprintf("%s: %s uses %s.%s, which is not in %s's %s",
					fset.Position(sel.Pos()), name, local, sel.Sel.Name, dep, seamFile))
			}
			return true
		})
	}
	return out
}

// importName returns the name file refers to the import path imp by, or
// "" when it does not import it.
func importName(file *ast.File, imp string) string {
	for _, s := range file.Imports {
		if p, err := strconv.Unquote(s.Path.Value); err != nil || p != imp {
			continue
		}
		if s.Name != nil {
			return s.Name.Name
		}
		return path.Base(imp)
	}
	return ""
}

// seamNames returns the top-level names (types, functions, constants,
// variables; not methods) that the file declares.
func seamNames(file string) (map[string]bool, error) {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				names[d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					names[s.Name.Name] = true
				case *ast.ValueSpec:
					for _, n := range s.Names {
						names[n.Name] = true
					}
				}
			}
		}
	}
	return names, nil
}

// TestSeamViolations runs the check on small packages in testdata, so
// that it is known to catch what it is for.
func TestSeamViolations(t *testing.T) {
	fake := func(name, dir string, imports ...string) pkg {
		p := pkg{ImportPath: modPrefix + name, Dir: filepath.Join("testdata", "seam", dir), Imports: imports}
		if dir != "" {
			files, _ := filepath.Glob(filepath.Join(p.Dir, "*.go"))
			for _, f := range files {
				p.GoFiles = append(p.GoFiles, filepath.Base(f))
			}
		}
		return p
	}
	lib := modPrefix + "internal/features/lib"
	noseam := modPrefix + "internal/features/noseam"
	pkgs := []pkg{
		fake("internal/features/lib", "lib"),
		fake("internal/features/noseam", "noseam"),
		fake("internal/features/good", "good", lib, modPrefix+"internal/module"),
		fake("internal/features/bad", "bad", lib),
		fake("internal/features/routed", "", modPrefix+"internal/router"),
		fake("internal/features/nose", "", noseam),
		fake("internal/c2s", "", lib),
		fake("internal/server", "", lib),
	}
	vs := seamViolations(pkgs)
	got := strings.Join(vs, "\n")
	for _, want := range []string{
		"internal/features/bad uses other.New, which is not in internal/features/lib's seam.go",
		"internal/features/routed imports internal/router",
		"internal/features/nose imports internal/features/noseam, which declares no seam",
		"internal/c2s imports feature internal/features/lib",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("violations do not say %q; got:\n%s", want, got)
		}
	}
	for _, v := range vs {
		if strings.HasPrefix(v, "internal/server ") || strings.Contains(v, "seam/good/") {
			t.Errorf("clean package reported: %s", v)
		}
	}
	if len(vs) != 4 {
		t.Errorf("%d violations, want 4:\n%s", len(vs), got)
	}
}
