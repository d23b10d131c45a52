#include "config.h"
#include "rng.h"

#include <stdio.h>

#define SCHEMAS "/usr/share/libvirt/schemas/"

static xmlRelaxNGPtr schemas[RNG_MAX];

int pf_rng_load(void) {
        static const char *const files[RNG_MAX] = {
                [RNG_NETWORK] = SCHEMAS "network.rng", [RNG_DOMAIN] = SCHEMAS "domain.rng",
                [RNG_POOL] = SCHEMAS "storagepool.rng", [RNG_VOLUME] = SCHEMAS "storagevol.rng",
        };
        for (int i = 0; i < RNG_MAX; i++) {
                xmlRelaxNGParserCtxtPtr p = xmlRelaxNGNewParserCtxt(files[i]);
                schemas[i] = p ? xmlRelaxNGParse(p) : NULL;
                xmlRelaxNGFreeParserCtxt(p);
                if (!schemas[i]) {
                        fprintf(stderr, "cannot load %s\n", files[i]);
                        return -1;
                }
        }
        return 0;
}

void pf_rng_free(void) {
        for (int i = 0; i < RNG_MAX; i++) {
                xmlRelaxNGFree(schemas[i]);
                schemas[i] = NULL;
        }
}

xmlRelaxNGPtr pf_rng(int which) { return schemas[which]; }

int pf_rng_validate(xmlDocPtr doc, int which) {
        xmlRelaxNGValidCtxtPtr v = xmlRelaxNGNewValidCtxt(schemas[which]);
        if (!v)
                return -1;
        int rc = xmlRelaxNGValidateDoc(v, doc);
        xmlRelaxNGFreeValidCtxt(v);
        return rc;
}
