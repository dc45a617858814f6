// Package s3store is the artifact.Store over an S3-compatible object store
// (AWS S3, MinIO, Ceph RGW, versitygw), using minio-go.
//
// # Layout
//
// The artifact at path is the object <prefix><path> in the configured bucket,
// with its SHA-256 digest in the user metadata x-amz-meta-mlportal-sha256
// ("sha256:<hex>"). Directories are key prefixes: List asks for one level
// with the delimiter "/". Keys under <prefix>.mlportal-staging/ are uploads
// in progress (artifact.ReservedPrefix): callers cannot name them and List
// hides them.
//
// # Writes: digest on the fly, metadata by a server-side copy
//
// S3 fixes an object's metadata when the upload completes, but the digest is
// known only once the whole body has streamed through. Put therefore:
//
//   - reads up to SinglePutMax (8 MiB) into a buffer that grows with the
//     body; a body that ends within it (most artifacts: metrics, params,
//     plots) is sent as one PutObject with its digest: one request;
//   - otherwise streams the body, hashing it, as a multipart upload of
//     unknown size (PutObject with size -1, parts of Config.PartSize, 16 MiB
//     by default; one part buffer plus the 8 MiB head in memory, about
//     24 MiB per large upload) to a unique staging key, then copies it
//     server-side onto the final key with the digest as replaced metadata
//     (CopyObject, or UploadPartCopy above 5 GiB via ComposeObject), then
//     deletes the staging object.
//
// The copy was chosen over spooling the body to a local temporary file: it
// needs no local disk as large as the largest model (a server pod's
// ephemeral storage is small), the object becomes visible at its key only
// whole and with its digest (the copy is atomic), and every S3-compatible
// server supports it. The price is the server-side copy of large objects;
// small ones skip it. A crash or cancellation between the steps can leave a
// staging object or an incomplete multipart upload behind, invisible to
// callers: give the bucket a lifecycle rule that expires <prefix>.mlportal-staging/
// after a day and aborts incomplete multipart uploads.
//
// Reads stream the object and verify it against the recorded digest at EOF
// (artifact.NewVerifyingReader); the metadata and the bytes come from one
// GET, so they always belong together.
//
// # What it does not do
//
// It creates no bucket (New checks that it exists and says how to fix it),
// sets no lifecycle rules, and keeps no local cache. An object written by
// another tool, without the digest metadata, cannot be verified and is
// reported as unavailable. Errors are mapped to fault kinds with messages
// naming the configuration keys (ConfigKey) to fix; anything else is an
// internal error that keeps the S3 response for the log.
package s3store
