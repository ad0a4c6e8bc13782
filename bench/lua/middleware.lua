-- Variant (c) of the benchmark: the authorization the seed applications hand-write
-- (Express/NestJS guards on getPeerCertificate()), moved into an Envoy Lua filter.
-- It reads the peer certificate's subject as ONE string and looks for the role in it with a
-- pattern, which is exactly the weakness mtls-authz removes (a CN of "x,OU=Admins" passes);
-- here it only serves as the cost of the usual approach.
function envoy_on_request(request_handle)
  local ssl = request_handle:streamInfo():downstreamSslConnection()
  if ssl == nil or not ssl:peerCertificatePresented() then
    request_handle:respond({[":status"] = "401"}, "unauthenticated")
    return
  end
  local subject = ssl:subjectPeerCertificate()
  local headers = request_handle:headers()
  local method = headers:get(":method")
  local path = headers:get(":path")
  if (method == "GET" or method == "HEAD") and string.find(path, "/patient-records", 1, true) == 1 then
    local ou = string.match(subject, "OU=([^,]+)")
    if ou == "Clinicians" or ou == "Admins" then
      return
    end
  end
  request_handle:respond({[":status"] = "403"}, "forbidden")
end
