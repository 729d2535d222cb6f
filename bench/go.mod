module github.com/libasync/libasync/bench

go 1.26.0

replace github.com/libasync/libasync => ../

require github.com/libasync/libasync v0.0.0-00010101000000-000000000000

require golang.org/x/sys v0.50.0 // indirect
