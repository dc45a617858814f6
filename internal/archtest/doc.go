// Package archtest holds tests of the codebase's shape rather than its
// behaviour: every package has a doc comment, and domain packages depend on no
// transport or adapter library. It has no code of its own.
package archtest
