/* The sandbox ("pause") process of every Pod on the local node, built here with
 * `gcc -static` because no registry can serve registry.k8s.io/pause.
 * It holds the Pod's namespaces open, reaps orphans (it is PID 1 when the Pod
 * shares its process namespace) and exits on SIGINT or SIGTERM. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int signo) { (void)signo; _exit(0); }

static void reap(int signo) {
  (void)signo;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(void) {
  struct sigaction action = {0};
  action.sa_handler = stop;
  if (sigaction(SIGINT, &action, NULL) < 0 || sigaction(SIGTERM, &action, NULL) < 0) return 1;
  action.sa_handler = reap;
  action.sa_flags = SA_NOCLDSTOP;
  if (sigaction(SIGCHLD, &action, NULL) < 0) return 2;
  for (;;) pause();
  return 42;
}
