package artifact

import (
	"context"
	"io"
)

// ContextReader returns a reader over r that fails with ctx's error once ctx
// is done, so a store streaming a caller's body stops when the caller goes
// away even if r itself blocks no more.
func ContextReader(ctx context.Context, r io.Reader) io.Reader {
	return &ctxReader{ctx: ctx, r: r}
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
