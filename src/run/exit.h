/* exit.h: what a run ends with (spec section 5). The stages decide it; the command line only
 * passes it on, so the codes live with the stages. */
#pragma once

enum {
        PF_EXIT_OK = 0,
        PF_EXIT_ERROR = 1,              /* configuration, plan or apply errors; usage errors */
        PF_EXIT_CHANGES = 2,            /* plan --detailed-exitcode: changes pending */
        PF_EXIT_PARTIAL = 3,            /* apply finished partly */
};
