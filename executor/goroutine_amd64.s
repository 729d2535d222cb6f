#include "textflag.h"

// func currentG() uintptr: the g pointer, from the thread-local slot that
// Go's amd64 ports keep it in (the assembler maps (TLS) per OS).
TEXT ·currentG(SB),NOSPLIT,$0-8
	MOVQ (TLS), AX
	MOVQ AX, ret+0(FP)
	RET
