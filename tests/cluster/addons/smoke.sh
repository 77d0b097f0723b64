# Sourced by smoke.sh for "addons": checks the real add-on controllers that
# up.sh --addons started (only those in DIR/run/components).
#   metallb       deploy upstream metallb-native.yaml v0.16.1 (its controller
#                 pod runs under kwok, the real controller as that pod), then a
#                 LoadBalancer Service gets an address from an IPAddressPool
#   cert-manager  a stand-in cert-manager controller Deployment, then a
#                 SelfSigned ClusterIssuer -> CA Certificate -> CA ClusterIssuer
#                 -> leaf Certificate becomes Ready with a Secret
#   local-path    a PVC (WaitForFirstConsumer) with a pod using it binds and the
#                 pod runs; deleting both removes the PV (helper pods complete)

ADDONS_RUNNING=$(grep '^addon-' "$DIR/run/components" 2>/dev/null | sed 's/^addon-//')
APPLY=(K apply --server-side --force-conflicts --field-manager=sector7-smoke -f -)

addon_metallb() {
  local f="$UPSTREAM/metallb/v0.16.1/metallb-native.yaml"
  check "metallb: upstream metallb-native.yaml applies" "${APPLY[@]}" <"$f"
  check "metallb: controller Deployment rolls out" K -n metallb-system rollout status deploy/controller --timeout=60s
  "${APPLY[@]}" >/dev/null <<'EOF'
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: smoke, namespace: metallb-system}
spec: {addresses: [203.0.113.10-203.0.113.20]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: smoke, namespace: metallb-system}
spec: {ipAddressPools: [smoke]}
---
apiVersion: v1
kind: Namespace
metadata: {name: smoke-metallb}
---
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: smoke-metallb}
spec:
  type: LoadBalancer
  selector: {app: none}
  ports: [{port: 443}]
---
apiVersion: v1
kind: Service
metadata:
  name: lb-fixed
  namespace: smoke-metallb
  annotations: {metallb.io/loadBalancerIPs: 203.0.113.15}
spec:
  type: LoadBalancer
  selector: {app: none}
  ports: [{port: 80}]
EOF
  check "metallb: LoadBalancer Service gets an address from the pool" lb_ip lb '203\.0\.113\.(1[0-9]|20)'
  check "metallb: requested address 203.0.113.15 is honoured" lb_ip lb-fixed '203\.0\.113\.15'
  K delete namespace smoke-metallb --wait=false >/dev/null
}
lb_ip() {
  local ip=""
  for _ in $(seq 120); do
    ip=$(K -n smoke-metallb get svc "$1" -o jsonpath='{.status.loadBalancer.ingress[0].ip}' 2>/dev/null)
    [ -n "$ip" ] && break; sleep 0.5
  done
  echo "ip=$ip"; echo "$ip" | grep -Eqx "$2"
}

addon_cert_manager() {
  # Stand-in for the cert-manager controller Deployment (sector7 deploys the real
  # one); the real controller starts once its pod is Running.
  "${APPLY[@]}" >/dev/null <<'EOF'
apiVersion: v1
kind: Namespace
metadata: {name: cert-manager}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cert-manager, namespace: cert-manager}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: cert-manager, app.kubernetes.io/component: controller}}
  template:
    metadata: {labels: {app.kubernetes.io/name: cert-manager, app.kubernetes.io/component: controller}}
    spec:
      containers:
      - name: cert-manager-controller
        image: quay.io/jetstack/cert-manager-controller:v1.21.1
        args: [--v=2, --cluster-resource-namespace=$(POD_NAMESPACE)]
        env: [{name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}]
EOF
  check "cert-manager: CRDs apply" K apply --server-side --force-conflicts -f "$UPSTREAM/cert-manager/v1.21.1/crds/"
  "${APPLY[@]}" >/dev/null <<'EOF'
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: smoke-selfsigned}
spec: {selfSigned: {}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: smoke-ca, namespace: cert-manager}
spec:
  isCA: true
  commonName: smoke-ca
  secretName: smoke-ca
  privateKey: {algorithm: ECDSA, size: 256}
  issuerRef: {name: smoke-selfsigned, kind: ClusterIssuer, group: cert-manager.io}
---
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: smoke-ca}
spec: {ca: {secretName: smoke-ca}}
---
apiVersion: v1
kind: Namespace
metadata: {name: smoke-certs}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: web, namespace: smoke-certs}
spec:
  secretName: web-tls
  dnsNames: [web.example.test]
  issuerRef: {name: smoke-ca, kind: ClusterIssuer, group: cert-manager.io}
EOF
  check "cert-manager: SelfSigned ClusterIssuer Ready" K wait --for=condition=Ready clusterissuer/smoke-selfsigned --timeout=90s
  check "cert-manager: CA Certificate Ready" K -n cert-manager wait --for=condition=Ready certificate/smoke-ca --timeout=90s
  check "cert-manager: CA ClusterIssuer Ready" K wait --for=condition=Ready clusterissuer/smoke-ca --timeout=90s
  check "cert-manager: leaf Certificate Ready" K -n smoke-certs wait --for=condition=Ready certificate/web --timeout=90s
  check "cert-manager: leaf Secret holds a cert signed by the CA" leaf_signed
  K delete namespace smoke-certs --wait=false >/dev/null
}
leaf_signed() {
  local t; t=$(mktemp -d)
  K -n smoke-certs get secret web-tls -o jsonpath='{.data.tls\.crt}' | base64 -d >"$t/leaf.crt"
  K -n smoke-certs get secret web-tls -o jsonpath='{.data.ca\.crt}' | base64 -d >"$t/ca.crt"
  openssl verify -CAfile "$t/ca.crt" "$t/leaf.crt" && openssl x509 -noout -ext subjectAltName -in "$t/leaf.crt"
  local rc=$?; rm -rf "$t"; return $rc
}

addon_local_path() {
  "${APPLY[@]}" >/dev/null <<'EOF'
apiVersion: v1
kind: Namespace
metadata: {name: smoke-pvc}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: smoke-pvc}
spec:
  storageClassName: local-path
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: user, namespace: smoke-pvc}
spec:
  nodeSelector: {kubernetes.io/hostname: optiplex}
  containers: [{name: c, image: busybox, volumeMounts: [{name: d, mountPath: /data}]}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
EOF
  check "local-path: PVC binds" K -n smoke-pvc wait --for=jsonpath='{.status.phase}'=Bound pvc/data --timeout=90s
  check "local-path: pod using it runs" K -n smoke-pvc wait --for=condition=Ready pod/user --timeout=60s
  check "local-path: PV is pinned to the pod's node" pv_on optiplex
  local pv; pv=$(K -n smoke-pvc get pvc data -o jsonpath='{.spec.volumeName}')
  K -n smoke-pvc delete pod user --wait=true --timeout=60s >/dev/null
  K -n smoke-pvc delete pvc data --wait=true --timeout=60s >/dev/null
  check "local-path: deleting the PVC deletes the PV" K wait --for=delete "pv/$pv" --timeout=90s
  K delete namespace smoke-pvc --wait=false >/dev/null
}
pv_on() {
  local pv; pv=$(K -n smoke-pvc get pvc data -o jsonpath='{.spec.volumeName}')
  K get pv "$pv" -o jsonpath='{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}' | grep -qx "$1"
}

for a in $ADDONS_RUNNING; do
  case "$a" in
    metallb) addon_metallb ;;
    cert-manager) addon_cert_manager ;;
    local-path) addon_local_path ;;
  esac
done
[ -n "$ADDONS_RUNNING" ] || echo "skip addons: none running (up.sh --addons ...)"
