/* ports.h: podform's record of the ports it enslaved to a bridge. A port is someone else's NIC
 * (podform does not write its alias), so this record is how podform knows which ports are its
 * own to release: only those ever are. "BRIDGE<TAB>PORT" lines in one file per network
 * namespace under the state directory, on util/statefile (locked for a whole apply). */
#pragma once
#include <stdbool.h>

typedef struct pf_ports pf_ports;

/* pf_ports_open: `state_dir` NULL keeps the record in memory only; `read_only` (a plan) reads
 * it without taking its lock. NULL with *err set when it cannot be read or locked. */
pf_ports *pf_ports_open(const char *state_dir, bool read_only, char **err);
void pf_ports_close(pf_ports *p);
/* pf_ports_save: writes the record if it changed (never for a plan or in memory). */
int pf_ports_save(pf_ports *p, char **err);

bool pf_ports_has(const pf_ports *p, const char *bridge, const char *port);
void pf_ports_add(pf_ports *p, const char *bridge, const char *port);
/* pf_ports_forget: port NULL forgets every port of the bridge. */
void pf_ports_forget(pf_ports *p, const char *bridge, const char *port);
/* pf_ports_keep_if: forgets every record for which keep(ud, bridge, port) is false. */
void pf_ports_keep_if(pf_ports *p, bool (*keep)(void *ud, const char *bridge, const char *port), void *ud);
