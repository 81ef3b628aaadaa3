// The whole program is in inc_program.inc.h; this file only chooses its section.
#define INC_SECTION "kprobe/do_rmdir"
#include "inc_program.inc.h"
