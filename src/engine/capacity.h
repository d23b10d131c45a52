/* capacity.h: podform.yaml(5). The vCPUs and memory of every VM that will run (declared with
 * running: true, and live running VMs the configuration does not declare) must fit the host's
 * cores and RAM times the overcommit ratios. Pure. */
#pragma once
#include <stdint.h>

#include "engine/obj.h"

typedef struct pf_capacity {
        unsigned host_cpus;
        uint64_t host_memory_kib;
        const pf_host *host;            /* overcommit ratios and where they were written */
} pf_capacity;

/* Each declared VM that does not fit gets an error at its declaration, with the numbers;
 * VMs are admitted in declaration order. */
void pf_capacity_check(const pf_capacity *cap, const pf_objset *want, const pf_objset *have, pf_diags *d);
