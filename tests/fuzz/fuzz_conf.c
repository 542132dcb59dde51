/* fuzz_conf - the config parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "core/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c;
	char err[256];

	conf_defaults(&c);
	(void)conf_parse_text(&c, "fuzz.conf", (const char *)data, size, err,
	    sizeof(err));
	conf_free(&c);
	return 0;
}
