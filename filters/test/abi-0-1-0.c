/* abi-0-1-0: ABI 0.1.0 test filter; behaviour in abi-common.h and README.md. */
#define PW_ABI PW_ABI_0_1_0
#include "abi-common.h"
