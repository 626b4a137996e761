#!/bin/sh
# expect-resumed.sh DEPLOYMENT SECRET_DATA: within 8s the Deployment is no longer paused
# (spec.paused unset, no deployment.reloader.stakater.com/paused-at annotation), is
# at revision 2 or 3 (one or two rollouts since its creation), fully rolled out, and its
# STAKATER_APP_SECRETS_SECRET holds SHA-1(SECRET_DATA) (Reloader's hash: sorted key=value
# pairs joined with ';'); then its revision holds for 3s. Prints the number of rollouts.
# Used by the restart-inside-pause-period scenarios: when Reloader resumes a Deployment it
# had paused and then lost the timer for, it sends two patches back to back (resume, then the
# new template); the Deployment controller may roll out the pending pre-restart template in
# between, or see only the final state.
set -u
deployment=$1
want=$(printf '%s' "$2" | sha1sum | cut -d' ' -f1)
jsonpath='{.spec.paused}{.metadata.annotations.deployment\.reloader\.stakater\.com/paused-at}|{.metadata.annotations.deployment\.kubernetes\.io/revision}|{.spec.template.spec.containers[0].env[?(@.name=="STAKATER_APP_SECRETS_SECRET")].value}|{.metadata.generation}|{.status.observedGeneration}|{.status.updatedReplicas}|{.status.readyReplicas}|{.status.replicas}'
i=0
while [ $i -lt 32 ]; do
  out=$(kubectl get deployment "$deployment" -n "$NAMESPACE" -o jsonpath="$jsonpath")
  IFS='|' read -r paused rev hash gen observed updated ready replicas <<EOT
$out
EOT
  if [ -z "$paused" ] && { [ "$rev" = 2 ] || [ "$rev" = 3 ]; } && [ "$hash" = "$want" ] \
    && [ "$gen" = "$observed" ] && [ "$updated" = 1 ] && [ "$ready" = 1 ] && [ "$replicas" = 1 ]; then
    sleep 3
    again=$(kubectl get deployment "$deployment" -n "$NAMESPACE" -o jsonpath='{.spec.paused}{.metadata.annotations.deployment\.reloader\.stakater\.com/paused-at}|{.metadata.annotations.deployment\.kubernetes\.io/revision}')
    if [ "$again" != "|$rev" ]; then
      echo "moved after reaching revision $rev: paused+paused-at|revision = $again"
      exit 1
    fi
    echo "resumed: rollouts=$((rev - 1)) revision=$rev hash=$hash"
    exit 0
  fi
  sleep 0.25
  i=$((i + 1))
done
echo "not resumed within 8s: paused+paused-at=$paused revision=$rev hash=$hash (want $want) generation=$gen observed=$observed updated=$updated ready=$ready replicas=$replicas"
exit 1
