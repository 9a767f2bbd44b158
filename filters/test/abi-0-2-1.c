/* abi-0-2-1: ABI 0.2.1 test filter; behaviour in abi-common.h and README.md. */
#define PW_ABI PW_ABI_0_2_1
#include "abi-common.h"
