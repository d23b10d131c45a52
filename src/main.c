/* podform: declarative management of KVM hosts. All logic lives in libpodform. */
#include "config.h"

#include "cli/cli.h"

int main(int argc, char **argv) {
        return pf_cli_main(argc, argv);
}
