// Package fsstore is the artifact.Store that keeps artifacts as plain files
// under one root directory (the server's dataDir/artifacts by default), so an
// operator can browse, back up and restore them with ordinary tools.
//
// # Layout
//
//	<root>/<path>                      the artifact's bytes
//	<root>/.mlportal-digests/<path>    its digest record (same relative path)
//	<dir>/.mlportal-tmp-*              a write in progress (or left by a crash)
//
// Names starting with artifact.ReservedPrefix (".mlportal-") are the store's:
// callers cannot use them and List never shows them.
//
// # Writes, and why a crash never leaves data and digest disagreeing
//
// Put streams the body into a temporary file in the target's own directory,
// hashing it on the way, and fsyncs it. Only then does it take the path's
// lock and commit, in this order:
//
//  1. write the digest record listing the new digest first and the digest of
//     the data currently at path (if any) second; fsync it, rename it into
//     place, fsync its directory;
//  2. rename the temporary file over path (atomic: readers see the old file
//     or the new one, never a mix) and fsync the directory;
//  3. rewrite the record with the new digest alone.
//
// A crash before step 1 completes leaves the old record and the old data; a
// crash between 1 and 3 leaves a record with two candidates, one of which
// describes whatever data survived the crash. Readers pick the candidate by
// size and, only if both have the same size, by hashing the file once; they
// then rewrite the record with that candidate alone. A simpler scheme (record
// before rename, one digest) would report a healthy old file as corrupt after
// a crash between the two renames; a record written after the rename would
// leave new data with the old digest. Extended attributes would make the pair
// atomic but are lost by common copy and backup tools.
//
// Readers hold the path's read lock while they open the file and read its
// record, so the descriptor they stream from always matches the digest they
// verify against, even while a later Put replaces the file.
//
// # What it does not do
//
// It does not coordinate several processes writing one root: the locks are
// in-process, so give each root one mlportal server (S3 is for sharing). It
// does not sweep the .mlportal-tmp-* files a crash leaves behind (they are
// invisible; remove old ones at leisure). It does not allow a path to be a
// file and a directory at once, as object stores do: such a Put is
// fault.ErrConflict. While a Put is writing into a new directory, List may
// show that directory before its first file appears. A file found without a
// digest record (copied in by
// hand) cannot be verified and is reported as unavailable, not adopted.
package fsstore
