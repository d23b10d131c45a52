/* cli.h: the podform command line: subcommands, options, exit codes (spec section 5). */
#pragma once

enum {
        PF_EXIT_OK = 0,
        PF_EXIT_ERROR = 1,              /* configuration, plan or apply errors; usage errors */
        PF_EXIT_CHANGES = 2,            /* plan --detailed-exitcode: changes pending */
        PF_EXIT_PARTIAL = 3,            /* apply finished partly */
};

/* pf_cli_main: run podform with argv; returns the exit code. */
int pf_cli_main(int argc, char **argv);
