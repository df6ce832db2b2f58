package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pgServer is the PostgreSQL server of --store postgres: every gateway the runner starts
// gets a database of its own on it, made before the gateway starts and dropped after it
// stops. The runner talks to the server through psql, the client that comes with the
// server's installation (scripts/with-postgres finds it beside initdb), so the benchmark
// needs no Go driver.
type pgServer struct {
	url      *url.URL // a role that may create databases, on its maintenance database
	password string   // taken out of url, so that it is not in psql's command line
	psql     string
	prefix   string // of this run's database names

	version  string            // "PostgreSQL 15.x …"
	settings map[string]string // the durability settings, for the record
	dataDisk string            // the file system of its data directory, when local

	mu      sync.Mutex
	seq     int
	created []string              // databases not dropped yet
	byDir   map[string]pgDatabase // by the data directory of the gateway it was made for
}

type pgDatabase struct{ name, url string }

// newPgServer checks rawURL (postgres://user@host:port/db?sslmode=…) and finds psql.
func newPgServer(rawURL, psql, stamp string) (*pgServer, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("-database-url: %v", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("-database-url: %q is not a postgres:// URL", u.Redacted())
	}
	s := &pgServer{url: u, psql: psql, byDir: map[string]pgDatabase{},
		prefix: "bench_" + strings.ToLower(stamp) + "_"}
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			s.password = p
			s.url.User = url.User(u.User.Username())
		}
	}
	if s.psql == "" {
		s.psql = findPsql()
	}
	if s.psql == "" {
		return nil, errors.New("--store postgres needs psql (Debian: postgresql-client), or -psql PATH")
	}
	return s, nil
}

// findPsql looks where scripts/with-postgres found the server (IDV_TEST_PG_BIN), then in
// the newest Debian server's bin directory, then on PATH.
func findPsql() string {
	var dirs []string
	if dir := os.Getenv("IDV_TEST_PG_BIN"); dir != "" {
		dirs = append(dirs, dir)
	}
	debian, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(debian, func(i, j int) bool { return pgMajor(debian[i]) > pgMajor(debian[j]) })
	dirs = append(dirs, debian...)
	for _, dir := range dirs {
		p := filepath.Join(dir, "psql")
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath("psql"); err == nil {
		return p
	}
	return ""
}

// pgMajor is the version in /usr/lib/postgresql/<version>/bin.
func pgMajor(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

// sql runs statements on the maintenance database and returns psql's unaligned output.
func (s *pgServer) sql(ctx context.Context, statements string) (string, error) {
	return s.sqlIn(ctx, "", statements)
}

// sqlIn runs statements on the database named (the maintenance database when "").
func (s *pgServer) sqlIn(ctx context.Context, database, statements string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	u := *s.url
	if database != "" {
		u.Path, u.RawPath = "/"+database, ""
	}
	cmd := exec.CommandContext(ctx, s.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-d", u.String(), "-c", statements)
	cmd.Env = os.Environ()
	if s.password != "" {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+s.password)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("psql on %s: %v: %s", u.Redacted(), err, strings.TrimSpace(errOut.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// check connects, records the server's version and durability settings, and makes sure
// the role may create databases.
func (s *pgServer) check(ctx context.Context) error {
	out, err := s.sql(ctx, "SELECT version(); "+
		"SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user; "+
		"SELECT name || '=' || setting FROM pg_settings WHERE name IN "+
		"('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'data_directory') ORDER BY name;")
	if err != nil {
		return err
	}
	lines := strings.Split(out, "\n")
	if len(lines) < 2 {
		return fmt.Errorf("psql: unexpected answer %q", out)
	}
	s.version = lines[0]
	if lines[1] != "t" {
		return fmt.Errorf("%s: the role may not create databases (one is made per gateway)", s.url.Redacted())
	}
	s.settings = map[string]string{}
	for _, line := range lines[2:] {
		if k, v, ok := strings.Cut(line, "="); ok {
			s.settings[k] = v
		}
	}
	return nil
}

// create makes a new, empty database for the gateway whose data directory is dir and
// returns its URL, with the password the server URL had.
func (s *pgServer) create(ctx context.Context, dir string) (string, error) {
	s.mu.Lock()
	s.seq++
	name := fmt.Sprintf("%s%d", s.prefix, s.seq)
	s.mu.Unlock()
	if _, err := s.sql(ctx, "CREATE DATABASE "+quoteIdent(name)); err != nil {
		return "", err
	}
	u := *s.url
	if s.password != "" {
		u.User = url.UserPassword(u.User.Username(), s.password)
	}
	u.Path = "/" + name
	u.RawPath = ""
	s.mu.Lock()
	s.created = append(s.created, name)
	s.byDir[dir] = pgDatabase{name, u.String()}
	s.mu.Unlock()
	return u.String(), nil
}

// urlFor is the URL of the database made for dir, if any.
func (s *pgServer) urlFor(dir string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	db, ok := s.byDir[dir]
	return db.url, ok
}

// verify makes sure the gateway on dir keeps its event log in its database: a gateway
// without the PostgreSQL store would ignore IDV_DATABASE_URL and measure SQLite instead.
func (s *pgServer) verify(ctx context.Context, dir string) error {
	s.mu.Lock()
	db, ok := s.byDir[dir]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	out, err := s.sqlIn(ctx, db.name, "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
	if err != nil {
		return err
	}
	if out == "0" {
		return fmt.Errorf("the gateway made no table in %s: this build has no PostgreSQL store "+
			"(it ignores IDV_DATABASE_URL)", db.name)
	}
	return nil
}

// drop removes the database made for dir (its gateway has stopped).
func (s *pgServer) drop(ctx context.Context, dir string) error {
	s.mu.Lock()
	db, ok := s.byDir[dir]
	delete(s.byDir, dir)
	s.mu.Unlock()
	if !ok {
		return nil
	}
	return s.dropName(ctx, db.name)
}

func (s *pgServer) dropName(ctx context.Context, name string) error {
	// WITH (FORCE) (PostgreSQL 13 on) ends a connection a killed gateway may have left.
	if _, err := s.sql(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(name)+" WITH (FORCE)"); err != nil {
		return err
	}
	s.mu.Lock()
	s.created = slices.DeleteFunc(s.created, func(n string) bool { return n == name })
	s.mu.Unlock()
	return nil
}

// dropAll drops the databases still there; it runs at the end, whatever happened.
func (s *pgServer) dropAll(ctx context.Context) error {
	s.mu.Lock()
	left := slices.Clone(s.created)
	s.mu.Unlock()
	var errs []error
	for _, name := range left {
		if err := s.dropName(ctx, name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// short is "PostgreSQL 15.14", for the table's title.
func (s *pgServer) short() string {
	f := strings.Fields(s.version)
	if len(f) >= 2 {
		return f[0] + " " + f[1]
	}
	return s.version
}

// describe is the server, for the results' JSON.
func (s *pgServer) describe() map[string]any {
	return map[string]any{"version": s.version, "url": s.url.Redacted(), "settings": s.settings,
		"data_disk": s.dataDisk, "databases": "one per gateway, " + s.prefix + "<n>, dropped after it"}
}

func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
