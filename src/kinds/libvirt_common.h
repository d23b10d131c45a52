/* libvirt_common.h: what the libvirt kinds (pool, volume, network, domain) share: readers of a
 * plan action, the state fields, and a desired object from a rendered document. */
#pragma once
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine/plan.h"
#include "libvirt/render.h"

static inline const pf_change *pf_action_change(const pf_action *a, const char *key) {
        for (size_t i = 0; i < a->changes.n; i++)
                if (!strcmp(a->changes.v[i].key, key))
                        return &a->changes.v[i];
        return NULL;
}

/* Whether the desired object has field `key` set to "yes" (autostart, running). */
static inline bool pf_action_wants(const pf_action *a, const char *key) {
        const pf_field *f = pf_obj_field(a->want, key);
        return f && !strcmp(f->value, "yes");
}

/* Whether any change is of a field that lands only by recreating the object. */
static inline bool pf_action_recreates(const pf_action *a) {
        for (size_t i = 0; i < a->changes.n; i++) {
                const char *key = a->changes.v[i].key;
                const pf_field *f = pf_obj_field(a->want, key);
                if (!f)
                        f = pf_obj_field(a->have, key);
                if (f && f->landing == PF_LAND_RECREATE)
                        return true;
        }
        return false;
}

/* The "active" and "autostart" fields every libvirt object but a volume has. */
static inline void pf_add_state_fields(pf_fields *fb, int active, int autostart) {
        pf_field_add(fb, PF_LAND_LIVE, PF_FIELD_STOPS, active ? "yes" : "no", "active");
        pf_field_add(fb, PF_LAND_LIVE, 0, autostart ? "yes" : "no", "autostart");
}

/* A desired object from its rendered document's text (NULL: none held); its index in `want`. */
static inline size_t pf_add_desired_text(pf_objset *want, pf_rkind kind, const char *name, const char *xml, pf_loc loc) {
        size_t idx = want->objs.n;
        pf_obj *o = pf_objset_add(want, kind, name);
        o->xml = xml ? pf_arena_strdup(&want->arena, xml) : NULL;
        o->loc = loc;
        o->active = true;
        return idx;
}

/* A desired object from its rendered document; its index in `want`. */
static inline size_t pf_add_desired(pf_objset *want, pf_rkind kind, const char *name, xmlDocPtr doc, pf_loc loc) {
        char *xml = pf_xml_dump(doc);
        size_t idx = pf_add_desired_text(want, kind, name, xml, loc);
        free(xml);
        return idx;
}
