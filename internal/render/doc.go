// Package render fills a project skeleton's placeholders with a project's values, the way
// Backstage's fetch:template action does, so a repository scaffolded by Backstage and one
// created by mlportal are byte-for-byte the same.
//
// A skeleton uses a deliberately tiny subset of Backstage's nunjucks syntax:
//
//   - ${{ values.NAME }} is replaced by the value NAME (whitespace inside the braces is optional);
//   - ${{ '${{' }}, ${{ '{%' }} and ${{ '{#' }} (single or double quotes) write those openers
//     literally, e.g. GitHub Actions expressions: ${{ '${{' }} secrets.TOKEN }} renders as
//     ${{ secrets.TOKEN }}.
//
// Everything else that nunjucks would interpret is an error naming the file, the line and the
// placeholder, so a typo never ships: another ${{ … }} expression (filters, tests, whitespace
// control), a value the caller did not supply, an unterminated ${{, and the nunjucks block and
// comment openers {% and {#, which Backstage still honours with its changed variable delimiters.
// File and directory names may contain placeholders too. Files with a NUL byte are binary and
// copied untouched, as Backstage does.
//
// The package does not read or write the disk, validate values (a project name's syntax is
// the caller's rule), keep empty directories (the result maps file paths to contents) or
// implement filters, conditionals or loops: a skeleton that needs them is too clever.
package render
