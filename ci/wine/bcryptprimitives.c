/*
 * bcryptprimitives.dll for Wine 8.0, which lacks it.
 *
 * Go 1.24 and later draw their random numbers from ProcessPrng in
 * bcryptprimitives.dll and stop at start-up without it. This stand-in
 * exports that one function, on top of BCryptGenRandom, which Wine has.
 * ci/wine.sh builds it with mingw-w64 into the test prefix's system32.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	/* BCryptGenRandom takes a ULONG length: fill larger buffers in parts. */
	while (len > 0) {
		ULONG part = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, part, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
			return FALSE;
		data += part;
		len -= part;
	}
	return TRUE;
}
