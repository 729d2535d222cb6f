// Package readable tells tests whether a descriptor is readable, as a
// host's event loop sees it: through poll(2) on unix and WSAPoll on Windows.
package readable
