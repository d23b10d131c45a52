/* reconcile.h: one plan or apply run, every stage in order:
 *   scope (this host's resources) -> observe + render -> capacity -> plan -> print
 *   -> confirm deletions -> apply -> observe again and verify. */
#pragma once
#include <stdbool.h>
#include <stdio.h>

#include "config/load.h"
#include "libvirt/conn.h"
#include "netlink/rtnl.h"

typedef struct pf_run_opts {
        bool apply;                     /* false: plan only */
        bool dry_run, prune, yes, allow_restart, detailed_exitcode;
        bool json, color, verbose, quiet;
        bool interactive;               /* stdin is a terminal: deletions may be confirmed there */
        bool owned_only;                /* show: only what podform created */
        unsigned parallel;              /* apply: libvirt actions at once; 0: pf_parallel_default */
        const char *host_name;
        FILE *out;                      /* the plan and the results */
        FILE *err;                      /* diagnostics */
} pf_run_opts;

/* The workers apply uses when not told (--parallel): twice the CPUs, at most 4. Most of an
 * action's time is libvirtd's (qemu-img, dnsmasq), which serves connections at once. */
unsigned pf_parallel_default(void);
#define PF_PARALLEL_MAX 64

/* pf_run_check: the whole tree checked before any host is involved: the configuration's own
 * checks (config/validate.h), then what the attachment rules decide without a host. Findings go
 * to c->diags. */
void pf_run_check(pf_config *c);

/* pf_scope_host: the host this run manages (--host, else the single Host document's name, else
 * the hostname), and the URI (--connect, else that Host's connect). */
const char *pf_scope_host(pf_config *c, const char *cli_host);
/* pf_check_host: NULL when --host may name the host: it names a Host document, or there is none
 * (a fleet repository may scope resources with metadata.host alone). Else the error, malloc'd:
 * the Host names found, with a "did you mean". */
char *pf_check_host(const pf_config *c, const char *cli_host);
const char *pf_scope_uri(const pf_config *c, const char *host_name, const char *cli_uri);

/* pf_show: the live host, as configuration documents, to o->out (--host names the host;
 * nothing is declared, so every object is read whole). Objects of kinds not shown yet are
 * counted in a closing comment. Returns an exit code. */
int pf_show(pf_lv_host *h, pf_nl_host *nl, const pf_run_opts *o);

/* pf_graph_host: the host's topology (podform graph) to o->out as `format` ("dot", "svg"): with
 * c, the configuration's plan drawn on the live host (created, changed, deleted, restart
 * pending); with c NULL, the live host as it is. A configuration that cannot be planned against
 * the host is drawn without what its errors concern, the errors on o->err. Returns an exit code. */
int pf_graph_host(pf_config *c, pf_lv_host *h, pf_nl_host *nl, const pf_run_opts *o, const char *format);

/* pf_reconcile: `nl` observes and changes the host links of the caller's network namespace.
 * Returns the exit code of spec section 5. */
int pf_reconcile(pf_config *c, pf_lv_host *h, pf_nl_host *nl, const pf_run_opts *o);
