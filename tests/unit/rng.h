/* rng.h: libvirt's own RNG schemas, loaded once per test group, for tests that check a
 * document is one libvirt accepts. */
#pragma once
#include <libxml/relaxng.h>
#include <libxml/tree.h>

enum { RNG_NETWORK, RNG_DOMAIN, RNG_POOL, RNG_VOLUME, RNG_MAX };

/* pf_rng_load: 0, or -1 after naming on stderr the schema that did not load. */
int pf_rng_load(void);
void pf_rng_free(void);
xmlRelaxNGPtr pf_rng(int which);
/* pf_rng_validate: xmlRelaxNGValidateDoc's result for doc against schema `which` (0: valid). */
int pf_rng_validate(xmlDocPtr doc, int which);
