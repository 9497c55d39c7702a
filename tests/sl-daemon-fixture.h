#pragma once

#include <libsoup/soup.h>

#include "stdiolink.h"

G_BEGIN_DECLS

/* A real stdiolinkd on 127.0.0.1, a free port, and a temporary data root of its own. */
typedef struct {
	char *root;
	char *base_url;
	GSubprocess *daemon;
	SoupSession *session;
	GPtrArray *env; /* "NAME=value" added to the daemon's environment */
	int listen_fd;	/* >= 0: handed over as a socket-activation descriptor */
	gboolean no_wait_for_jobs; /* start returns once the daemon listens */
	guint max_fds;		   /* > 0: the daemon's RLIMIT_NOFILE */
} SlDaemonFixture;

SoupSession *sl_daemon_fixture_new_session(void);
void sl_daemon_fixture_init(SlDaemonFixture *fx);
void sl_daemon_fixture_start(SlDaemonFixture *fx);
void sl_daemon_fixture_stop(SlDaemonFixture *fx);
void sl_daemon_fixture_wait_for_jobs(SlDaemonFixture *fx);
void sl_daemon_fixture_clear(SlDaemonFixture *fx);

char *sl_daemon_fixture_path(SlDaemonFixture *fx, const char *relative);
void sl_daemon_fixture_write(SlDaemonFixture *fx, const char *relative, const char *contents);
void sl_daemon_fixture_add_test_service(SlDaemonFixture *fx, const char *id, const char *schema);
void sl_daemon_fixture_add_project(SlDaemonFixture *fx,
				   const char *id,
				   const char *service_id,
				   const char *schedule,
				   const char *params);

JsonNode *sl_daemon_fixture_request(SlDaemonFixture *fx,
				    const char *method,
				    const char *path,
				    const char *body,
				    guint *status);
JsonNode *sl_daemon_fixture_request_full(SlDaemonFixture *fx,
					 SoupMessage *msg,
					 const char *body,
					 guint *status);
void sl_daemon_fixture_assert_error(JsonNode *node, const char *code, const char *message);

typedef gboolean (*SlConditionFunc)(SlDaemonFixture *fx, gpointer data);
gboolean sl_daemon_fixture_wait(SlDaemonFixture *fx, SlConditionFunc func, gpointer data);

guint sl_daemon_fixture_count_instances(SlDaemonFixture *fx, const char *project_id);
GPtrArray *sl_daemon_fixture_read_events(SlDaemonFixture *fx, const char *instance_id);
gboolean sl_daemon_fixture_pid_alive(GPid pid);

/* a request sent from a thread of its own, for answers the daemon holds back */
typedef struct {
	char *method;
	char *url;
	char *body; /* or NULL */
	guint status;
	JsonNode *reply;
	gint done;
	GThread *thread;
} SlHeldRequest;

void sl_held_request_start(SlHeldRequest *held,
			   SlDaemonFixture *fx,
			   const char *method,
			   const char *path,
			   const char *body);
void sl_held_request_join(SlHeldRequest *held);
void sl_held_request_clear(SlHeldRequest *held);

G_END_DECLS
