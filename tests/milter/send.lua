-- miltertest script: plays one message file through every milter phase, as an MTA would,
-- and prints the filter's last reply as "reply=<SMFIR letter>".
-- Environment: MILTER_SOCK (libmilter syntax), MSG (the .eml file), RCPT (optional),
-- TLS (set: announce {tls_version}/{cipher} macros), REPLY (optional, see the end).
local sock = os.getenv("MILTER_SOCK")
local file = os.getenv("MSG")
local rcpt = os.getenv("RCPT") or "<tlsrpt@example.com>"

local f = assert(io.open(file, "rb"))
local text = f:read("*a")
f:close()
text = text:gsub("\r\n", "\n")
local hdr_end = text:find("\n\n", 1, true)
local head, body = text:sub(1, hdr_end), text:sub(hdr_end + 2)

local conn = mt.connect(sock, 40, 0.25)
if conn == nil then error("cannot connect to " .. sock) end
if mt.conninfo(conn, "mail.sender.example", "192.0.2.10") ~= nil then error("conninfo") end
if os.getenv("TLS") then
    mt.macro(conn, SMFIC_HELO, "{tls_version}", "TLSv1.3", "{cipher}", "TLS_AES_256_GCM_SHA384")
end
if mt.helo(conn, "mail.sender.example") ~= nil then error("helo") end
mt.macro(conn, SMFIC_MAIL, "i", "4AbC12xYz")
if mt.mailfrom(conn, "<reports@sender.example>") ~= nil then error("mailfrom") end
if mt.rcptto(conn, rcpt) ~= nil then error("rcptto") end
if mt.data(conn) ~= nil then error("data") end

-- Headers: unfolded into name and value, continuation lines joined by "\n" + blank as
-- Postfix passes them.
local name, value
local function flush()
    if name then
        if mt.header(conn, name, value) ~= nil then error("header " .. name) end
    end
end
for line in head:gmatch("([^\n]*)\n") do
    if line:match("^[ \t]") and name then
        value = value .. "\n" .. line
    else
        flush()
        name, value = line:match("^([^:]+):[ \t]*(.*)$")
    end
end
flush()
if mt.eoh(conn) ~= nil then error("eoh") end
if mt.getreply(conn) == SMFIR_ACCEPT then
    print("reply=a (at end of header)")
    mt.disconnect(conn)
    return
end
body = body:gsub("\n", "\r\n")
local pos = 1
while pos <= #body do
    if mt.bodystring(conn, body:sub(pos, pos + 65534)) ~= nil then error("body") end
    -- A filter that is done with a message accepts it there; the MTA sends no more.
    if mt.getreply(conn) == SMFIR_ACCEPT then
        print("reply=a (in the body, after " .. (pos + 65534) .. " bytes)")
        mt.disconnect(conn)
        return
    end
    pos = pos + 65535
end
if mt.eom(conn) ~= nil then error("eom") end
print("reply=" .. string.char(mt.getreply(conn)))
-- REPLY="CODE XCODE TEXT": whether the filter asked for exactly that SMTP reply.
local want = os.getenv("REPLY")
if want and want ~= "" then
    local code, xcode, rtext = want:match("^(%d+) (%S+) (.*)$")
    local same = mt.eom_check(conn, MT_SMTPREPLY, code, xcode, rtext)
    print("smtpreply=" .. (same and "as expected" or "other"))
end
mt.disconnect(conn)
