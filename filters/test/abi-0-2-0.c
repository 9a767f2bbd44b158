/* abi-0-2-0: ABI 0.2.0 test filter; behaviour in abi-common.h and README.md. */
#define PW_ABI PW_ABI_0_2_0
#include "abi-common.h"
