/* checks.h: what validate.c and validate_vm.c share (internal to src/config/). */
#pragma once
#include <stdio.h>
#include <string.h>

#include "config/load.h"

/* Order of two places: file, then line, then column. */
static inline int loc_cmp(pf_loc a, pf_loc b) {
        int r = strcmp(a.src ? a.src->path : "", b.src ? b.src->path : "");
        if (r)
                return r;
        if (a.line != b.line)
                return a.line < b.line ? -1 : 1;
        return a.col < b.col ? -1 : a.col > b.col;
}

/* A place as a message names it: FILE:LINE:COL. */
static inline const char *where(pf_loc l, char *buf, size_t n) {
        snprintf(buf, n, "%s:%u:%u", l.src ? l.src->path : "?", l.line, l.col);
        return buf;
}

static inline const char *q(char *buf, const char *s) { return pf_quote(buf, PF_QUOTE_MAX, s, strlen(s)); }

/* validate_vm.c: one VM's own rules; the rules across VMs (MACs, Macvtaps, constraints). */
void pf_check_vm(pf_diags *diags, const pf_model *m, const pf_vm *vm);
void pf_check_vm_refs(pf_diags *diags, const pf_model *m);
