#include "config.h"
#include "engine/capacity.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static bool running_fields(const pf_obj *o, unsigned *vcpus, uint64_t *kib) {
        const pf_field *run = pf_obj_field(o, "running"), *cpu = pf_obj_field(o, "vcpus"), *mem = pf_obj_field(o, "memory");
        if (!run || strcmp(run->value, "yes") || !cpu || !mem)
                return false;
        *vcpus = (unsigned) strtoul(cpu->value, NULL, 10);
        *kib = strtoull(mem->value, NULL, 10);
        return true;
}

void pf_capacity_check(const pf_capacity *cap, const pf_objset *want, const pf_objset *have, pf_diags *d) {
        double max_cpu = cap->host_cpus * cap->host->overcommit_cpu;
        double max_kib = (double) cap->host_memory_kib * cap->host->overcommit_memory;
        uint64_t used_cpu = 0, used_kib = 0;
        unsigned vcpus;
        uint64_t kib;
        /* what runs and stays outside the configuration counts first */
        for (size_t i = 0; i < have->objs.n; i++) {
                const pf_obj *o = &have->objs.v[i];
                if (o->kind == PF_R_DOMAIN && o->active && !pf_objset_find(want, PF_R_DOMAIN, o->name) &&
                    running_fields(o, &vcpus, &kib)) {
                        used_cpu += vcpus;
                        used_kib += kib;
                }
        }
        for (size_t i = 0; i < want->objs.n; i++) {
                const pf_obj *o = &want->objs.v[i];
                if (o->kind != PF_R_DOMAIN || !running_fields(o, &vcpus, &kib))
                        continue;
                if (used_cpu + vcpus > max_cpu)
                        pf_error(d, o->loc, "VM %s does not fit: its %u vCPUs would bring running VMs to %" PRIu64
                                 " vCPUs, over the host's %u CPUs x overcommit cpu %g = %g; lower its cores, stop a VM or "
                                 "raise Host.spec.overcommit.cpu", o->name, vcpus, used_cpu + vcpus, cap->host_cpus,
                                 cap->host->overcommit_cpu, max_cpu);
                else if (used_kib + kib > max_kib)
                        pf_error(d, o->loc, "VM %s does not fit: its %" PRIu64 " MiB of memory would bring running VMs to %"
                                 PRIu64 " MiB, over the host's %" PRIu64 " MiB x overcommit memory %g = %.0f MiB; lower its "
                                 "memory, stop a VM or raise Host.spec.overcommit.memory", o->name, kib / 1024,
                                 (used_kib + kib) / 1024, cap->host_memory_kib / 1024, cap->host->overcommit_memory,
                                 max_kib / 1024);
                else {
                        used_cpu += vcpus;
                        used_kib += kib;
                }
        }
}
