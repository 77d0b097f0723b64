# Garage as catalog/appflowy/s3-garage.yaml runs it: `/garage server
# --single-node --default-bucket` as 1000 on a read-only root, the
# catalog's garage.toml (sqlite, replication 1, region us-east-1; ports
# moved to free loopback ports), the key and bucket from the environment;
# /health on the admin port; the AppFlowy init container's HEAD/PUT bucket
# with curl --aws-sigv4 (the curl image); a presigned PUT and GET (as
# AppFlowy hands to browsers) round-trip an object; a tampered or unsigned
# request is refused.
test_garage() {
  import garage >/dev/null
  local d="$T/garage" s3 rpc admin keyhex secret rpcsecret
  s3=$(free_port); rpc=$(free_port); admin=$(free_port)
  keyhex=$(openssl rand -hex 12); secret=$(openssl rand -hex 32); rpcsecret=$(openssl rand -hex 32)
  mkdir -p "$d/data" "$d/etc"; chown 1000:1000 "$d/data"
  cat > "$d/etc/garage.toml" <<EOT
metadata_dir = "/var/lib/garage/meta"
data_dir = "/var/lib/garage/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc"
rpc_public_addr = "127.0.0.1:$rpc"
[s3_api]
s3_region = "us-east-1"
api_bind_addr = "127.0.0.1:$s3"
[admin]
api_bind_addr = "127.0.0.1:$admin"
EOT
  $CTR -n k8s.io run --rm --read-only --net-host \
    --mount "type=bind,src=$d/data,dst=/var/lib/garage,options=rbind:rw" \
    --mount "type=bind,src=$d/etc,dst=/etc/garage,options=rbind:ro" \
    --env GARAGE_CONFIG_FILE=/etc/garage/garage.toml --env GARAGE_RPC_SECRET="$rpcsecret" \
    --env GARAGE_DEFAULT_ACCESS_KEY="GK$keyhex" --env GARAGE_DEFAULT_SECRET_KEY="$secret" \
    --env GARAGE_DEFAULT_BUCKET=appflowy \
    docker.io/dxflrs/garage:v2.3.0 garage /garage server --single-node --default-bucket > "$d/log" 2>&1 &
  PIDS+=($!)
  check garage "/health answers 200 (the probes)" http_wait "http://127.0.0.1:$admin/health" 60
  check garage "runs as 1000 and wrote its metadata to the mounted volume" \
    sh -c "ls -ln '$d/data/meta' | grep -q ' 1000 '"
  if ! $CTR -n k8s.io images ls -q | grep -qx docker.io/curlimages/curl:8.21.0; then
    [ -f "$OUT/curl.tar" ] && import curl >/dev/null
  fi
  check garage "AppFlowy's s3-bucket init container (curl --aws-sigv4 HEAD bucket) gets 200" \
    $CTR -n k8s.io run --rm --read-only --net-host --env S3_KEY_ID="GK$keyhex" --env S3_SECRET_KEY="$secret" \
      --env EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 \
      docker.io/curlimages/curl:8.21.0 garage-init sh -c "
        code=\$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --aws-sigv4 aws:amz:us-east-1:s3 \
          --user \"\$S3_KEY_ID:\$S3_SECRET_KEY\" -H \"x-amz-content-sha256: \$EMPTY_SHA256\" -I \
          http://127.0.0.1:$s3/appflowy)
        echo \"HEAD bucket: \$code\"; [ \"\$code\" = 200 ]"
  head -c 300000 /dev/urandom > "$d/object"
  local put get
  put=$(S3_SECRET=$secret python3 "$HERE/checks/presign.py" PUT "http://127.0.0.1:$s3/appflowy/test/object.bin" "GK$keyhex" -)
  get=$(S3_SECRET=$secret python3 "$HERE/checks/presign.py" GET "http://127.0.0.1:$s3/appflowy/test/object.bin" "GK$keyhex" -)
  check garage "presigned PUT of a 300 kB object: 200" \
    sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary @'$d/object' '$put') = 200 ]"
  check garage "presigned GET returns the same bytes" \
    sh -c "curl -fsS '$get' -o '$d/back' && cmp '$d/object' '$d/back'"
  check garage "a tampered signature is refused (403)" \
    sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' '${get%?}0') = 403 ] || [ \$(curl -s -o /dev/null -w '%{http_code}' '${get%?}1') = 403 ]"
  check garage "an unsigned GET is refused (403)" \
    sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$s3/appflowy/test/object.bin) = 403 ]"
  $CTR -n k8s.io tasks kill garage >/dev/null 2>&1 || true
}
