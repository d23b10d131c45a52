/* cli.h: the podform command line: subcommands and options; the exit codes are the run's
 * (run/exit.h). */
#pragma once

/* pf_cli_main: run podform with argv; returns the exit code. */
int pf_cli_main(int argc, char **argv);
