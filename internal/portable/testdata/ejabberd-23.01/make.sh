#!/bin/sh
# Regenerates the ejabberd export in this directory (see README.md).
# Needs root and Debian's ejabberd package; runs a node named
# parleyexp@localhost from /tmp/ejab and leaves the export in
# /tmp/ejab/export/out.
set -eu
E=/tmp/ejab
rm -rf $E && mkdir -p $E/conf $E/spool $E/logs $E/modules.d $E/export/out
cat > $E/conf/ejabberd.yml <<'YML'
loglevel: info
hosts: [plain.example, scram.example]
auth_method: internal
host_config:
  plain.example: {auth_password_format: plain}
  scram.example: {auth_password_format: scram}
listen: [{port: 25222, ip: "127.0.0.1", module: ejabberd_c2s}]
modules:
  mod_roster: {}
  mod_vcard: {}
  mod_private: {}
  mod_offline: {}
  mod_privacy: {}
  mod_blocking: {}
  mod_last: {}
  mod_admin_extra: {}
YML
sed -e "s#^EJABBERD_CONFIG_PATH=.*#EJABBERD_CONFIG_PATH=$E/conf/ejabberd.yml#" \
    -e "s#^EJABBERD_PID_PATH=.*#EJABBERD_PID_PATH=$E/ejabberd.pid#" \
    -e "s#^CONTRIB_MODULES_CONF_DIR=.*#CONTRIB_MODULES_CONF_DIR=$E/modules.d#" \
    /etc/ejabberd/ejabberdctl.cfg > $E/conf/ejabberdctl.cfg
cp /etc/ejabberd/inetrc $E/conf/
chown -R ejabberd $E
C() { runuser -u ejabberd -- env HOME=$E CONFIG_DIR=$E/conf SPOOL_DIR=$E/spool LOGS_DIR=$E/logs ejabberdctl --node parleyexp@localhost "$@"; }
C start; C started
C register juliet plain.example 'Rom3o&Jul<iet>'
C register romeo plain.example 'wherefore-art-thou'
C register nurse plain.example 'nürse pässwörd'
C register alice scram.example 'alice-pw'
C register bob scram.example 'bob-pw'
C add_rosteritem juliet plain.example romeo plain.example 'Romeo' 'Lovers;Friends' both
C add_rosteritem romeo plain.example juliet plain.example 'Juliet' 'Lovers' both
C add_rosteritem juliet plain.example alice scram.example 'Alice (scram)' '' to
C add_rosteritem alice scram.example juliet plain.example '' '' from
C add_rosteritem alice scram.example mercutio verona.example 'Mercutio' 'Verona' none
C set_vcard juliet plain.example FN 'Juliet Capulet'
C set_vcard juliet plain.example NICKNAME 'Jules'
C set_vcard alice scram.example FN 'Alice Ünïcode'
C private_set juliet plain.example "<storage xmlns='storage:bookmarks'><conference jid='balcony@conference.plain.example' autojoin='true' name='Balcony'><nick>juliet</nick></conference></storage>"
C private_set alice scram.example "<prefs xmlns='exodus:prefs'><defaultnick>Alice</defaultnick></prefs>"
C send_message chat romeo@plain.example juliet@plain.example '' 'Good night, good night! Parting is such sweet sorrow'
C send_message normal nurse@plain.example juliet@plain.example 'News' 'Your lady mother is coming to your chamber'
C send_message chat bob@scram.example alice@scram.example '' 'Hi Alice <3 & bye'
C send_stanza romeo@plain.example nurse@plain.example "<presence type='subscribe' from='romeo@plain.example' to='nurse@plain.example'><status>Let me in</status></presence>"
C export_piefxis $E/export/out
C stop
