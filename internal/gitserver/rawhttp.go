package gitserver

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mlportal/mlportal/internal/fault"
)

// serveRaw answers GET and HEAD of `raw/<ref>/<path>` with the file's bytes
// at ref, its blob id as a strong ETag (If-None-Match gives 304), and a
// Content-Type from its extension. Content that a browser would run (HTML,
// SVG, JavaScript) is served as text/plain, and every answer forbids
// sniffing and carries a sandboxing CSP, so a repository cannot put active
// content on mlportal's origin.
func (h *handler) serveRaw(w http.ResponseWriter, r *http.Request, rt route) {
	ctx := r.Context()
	f, err := h.s.Lookup(ctx, rt.team, rt.project, rt.tail)
	if err != nil {
		switch fe, _ := fault.As(err); {
		case errors.Is(err, fault.ErrNotFound) && fe != nil:
			reply(w, http.StatusNotFound, fe.Message)
		case errors.Is(err, fault.ErrInvalid) && fe != nil:
			reply(w, http.StatusBadRequest, invalidMessage(fe))
		default:
			h.internal(ctx, w, "look up file", err, "team", rt.team, "project", rt.project, "path", rt.tail)
		}
		return
	}
	etag := `"` + f.Blob + `"`
	hdr := w.Header()
	hdr.Set("ETag", etag)
	hdr.Set("Cache-Control", "private, no-cache")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if etagMatch(r.Header.Get("If-None-Match"), f.Blob) {
		w.WriteHeader(http.StatusNotModified)
		return
	}

	blob, err := h.s.OpenBlob(ctx, rt.team, rt.project, f.Blob)
	if err != nil {
		h.internal(ctx, w, "read file", err, "team", rt.team, "project", rt.project, "blob", f.Blob)
		return
	}
	defer blob.Close()
	body := bufio.NewReaderSize(blob, sniffLen)
	ctype := contentType(f.Path)
	if ctype == "" {
		head, _ := body.Peek(sniffLen) // a short file gives fewer bytes and io.EOF
		ctype = "application/octet-stream"
		if looksText(head, int64(len(head)) == f.Size) {
			ctype = textPlain
		}
	}
	hdr.Set("Content-Type", ctype)
	hdr.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	// Large files stream for longer than an API call, as packs do.
	deadline := time.Now().Add(h.s.transfer)
	_ = http.NewResponseController(w).SetWriteDeadline(deadline)
	w.WriteHeader(http.StatusOK)
	if n, err := io.Copy(w, body); err != nil || n != f.Size {
		// Headers are gone: the short body tells the client.
		h.s.log.WarnContext(ctx, "git raw: file not sent whole", "team", rt.team, "project", rt.project,
			"path", f.Path, "sent", n, "size", f.Size, "err", err)
	}
}

// invalidMessage is the fault's message with its field reasons.
func invalidMessage(fe *fault.Error) string {
	msg := fe.Message
	for _, f := range fe.Fields {
		msg += "; " + f.Field + ": " + f.Reason
	}
	return msg
}

// etagMatch implements If-None-Match's weak comparison for one blob id.
func etagMatch(header, blob string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == `"`+blob+`"` {
			return true
		}
	}
	return false
}

const (
	textPlain = "text/plain; charset=utf-8"
	sniffLen  = 8 << 10
)

// contentTypes by extension. Anything a browser renders actively is text.
var contentTypes = map[string]string{
	".json": "application/json",
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".gif":  "image/gif",
	".webp": "image/webp",
	".pdf":  "application/pdf",
	".gz":   "application/gzip",
	".tgz":  "application/gzip",
	".zip":  "application/zip",
}

var textExtensions = []string{
	".yaml", ".yml", ".md", ".markdown", ".txt", ".rst", ".py", ".ipynb", ".toml", ".cfg", ".ini",
	".sh", ".csv", ".tsv", ".sql", ".r", ".go", ".ts", ".js", ".css", ".html", ".htm", ".svg",
	".xml", ".j2", ".tpl", ".lock", ".env", ".gitignore", ".dockerignore", ".mk",
}

// contentType is the Content-Type of a file name, or "" when its content
// must decide.
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	base := strings.ToLower(path.Base(name))
	for _, e := range textExtensions {
		if ext == e || base == e {
			return textPlain
		}
	}
	switch base {
	case "dockerfile", "makefile", "readme", "license", "codeowners":
		return textPlain
	}
	return ""
}

// looksText reports whether head, the start of a file (all of it when
// complete), is UTF-8 text without NUL bytes.
func looksText(head []byte, complete bool) bool {
	for i := 0; i < len(head); {
		r, n := utf8.DecodeRune(head[i:])
		if r == 0 {
			return false
		}
		if r == utf8.RuneError && n <= 1 {
			// A rune cut at the end of a partial head is fine.
			return !complete && !utf8.FullRune(head[i:])
		}
		i += n
	}
	return true
}
