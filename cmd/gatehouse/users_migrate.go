package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/identity/graph"
	"github.com/gatehouse/gatehouse/identity/password"
	"github.com/gatehouse/gatehouse/store"
)

// directoryFor is the Graph user format of a tenant (the shape import
// reads and export writes).
func directoryFor(target stateTarget) *graph.API {
	return graph.New("", graph.Options{Tenant: target.tenant + ".onmicrosoft.com", HashPassword: password.DefaultHasher().Hash})
}

// maxImportLine bounds one JSON line (a user with many attributes);
// importWriters store users concurrently.
const (
	maxImportLine = 1 << 20
	importWriters = 8
)

// usersImport reads one Graph user per line (ids, createdDateTime and
// password hashes kept) into the store. A bad line is reported with its
// number and skipped; the exit status says whether every line made it.
// Progress goes to stderr every 10,000 lines.
func usersImport(st store.Store, target stateTarget, audit *adminLog, file string, stderr io.Writer) int {
	f, err := os.Open(file)
	if err != nil {
		fmt.Fprintln(stderr, "gatehouse users import:", err)
		return 1
	}
	defer f.Close()
	dir := directoryFor(target)
	// The store command's 30-second budget is for single changes: an
	// import takes as long as its file.
	ctx := context.Background()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxImportLine)
	start := time.Now()
	// Lines are read and checked in order; a few writers store them (a
	// PostgreSQL store takes concurrent inserts, SQLite queues them).
	type job struct {
		line int
		u    *store.User
	}
	var mu sync.Mutex
	ok, failed := 0, 0
	report := func(line int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed++
			fmt.Fprintf(stderr, "%s:%d: %v\n", file, line, err)
			return
		}
		ok++
		if ok%10000 == 0 {
			fmt.Fprintf(stderr, "imported %d users (%.0f/s)\n", ok, float64(ok)/time.Since(start).Seconds())
		}
	}
	jobs := make(chan job, 64)
	var wg sync.WaitGroup
	for range importWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				err := st.Users().Create(ctx, j.u)
				if errors.Is(err, store.ErrConflict) {
					err = errors.New("an account with this id, email address or identity exists already")
				}
				report(j.line, err)
			}
		}()
	}
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		u, err := dir.ImportUser(ctx, b)
		if err != nil {
			report(line, err)
			continue
		}
		jobs <- job{line, u}
	}
	close(jobs)
	wg.Wait()
	if err := sc.Err(); err != nil {
		report(line+1, fmt.Errorf("%v (lines are at most 1 MiB)", err))
	}
	audit.emit(ctx, "users.import", file, slog.Int("imported", ok), slog.Int("failed", failed))
	fmt.Fprintf(stderr, "imported %d users in %s, %d lines failed\n", ok, time.Since(start).Round(time.Millisecond), failed)
	if failed > 0 {
		return 1
	}
	return 0
}

// usersExport writes every account as a Graph user line with its password
// hash: what usersImport reads, here or into another system.
func usersExport(st store.Store, target stateTarget, file string, stdout, stderr io.Writer) int {
	out := stdout
	if file != "" {
		f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600) // password hashes: owner only, never over another file
		if err != nil {
			fmt.Fprintln(stderr, "gatehouse users export:", err)
			return 1
		}
		defer f.Close()
		out = f
	}
	w := bufio.NewWriter(out)
	dir := directoryFor(target)
	ctx := context.Background()
	n, after := 0, ""
	for {
		page, err := st.Users().Page(ctx, after, 1000)
		if err != nil {
			fmt.Fprintln(stderr, "gatehouse users export:", err)
			return 1
		}
		for _, u := range page {
			b, err := dir.ExportUser(u)
			if err != nil {
				fmt.Fprintln(stderr, "gatehouse users export:", err)
				return 1
			}
			w.Write(b)
			w.WriteByte('\n')
			after = u.ID
			n++
		}
		if len(page) < 1000 {
			break
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(stderr, "gatehouse users export:", err)
		return 1
	}
	fmt.Fprintf(stderr, "exported %d users\n", n)
	return 0
}
