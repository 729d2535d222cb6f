#include "textflag.h"

// func currentG() uintptr: the g pointer, which arm64 keeps in register g.
TEXT ·currentG(SB),NOSPLIT,$0-8
	MOVD g, R0
	MOVD R0, ret+0(FP)
	RET
