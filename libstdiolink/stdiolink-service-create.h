#pragma once

#include <json-glib/json-glib.h>

#include "stdiolink-service.h"

G_BEGIN_DECLS

/**
 * StdiolinkServiceSpec:
 * @id: the service id, `^[a-zA-Z0-9_-]+$`, at most 128 characters
 * @name: the display name
 * @version: the version text
 * @description: "" when not given
 * @author: "" when not given
 * @template_name: `empty`, `basic`, `driver_demo` or `exec`
 * @index_js: (nullable): the text of `index.js` instead of the template's
 * @config_schema: (nullable): the text of `config.schema.json` instead of the template's
 *
 * What `POST /api/services` asks for, checked and copied out of the request body.
 */
typedef struct {
	char *id;
	char *name;
	char *version;
	char *description;
	char *author;
	char *template_name;
	char *index_js;
	char *config_schema;
} StdiolinkServiceSpec;

gboolean stdiolink_service_is_valid_new_id(const char *id);

StdiolinkServiceSpec *stdiolink_service_spec_new_from_json(JsonObject *body, GError **error);
void stdiolink_service_spec_free(StdiolinkServiceSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StdiolinkServiceSpec, stdiolink_service_spec_free)

StdiolinkService *stdiolink_service_create(const char *services_dir,
					   const StdiolinkServiceSpec *spec,
					   GError **error);

G_END_DECLS
