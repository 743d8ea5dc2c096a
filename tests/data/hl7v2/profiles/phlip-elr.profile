# APHL/CDC PHLIP influenza ELR on HL7 v2.5.1 (ELR 2.5.1 R1 constraints as exercised by the
# CDC data-exchange-hl7 negative test messages). Format: gateway/hl7v2/README.md.
profile PHLIP_ELR

# Sender and receiver are identified by OID: HD.1 namespace, HD.2 universal ID, HD.3 type.
require MSH-3 MSH-4 MSH-5 MSH-6
require MSH-3.2 MSH-3.3 MSH-4.2 MSH-4.3 MSH-5.2 MSH-5.3 MSH-6.2 MSH-6.3

# Every message names the profiles it follows, each as a complete EI.
require MSH-21
require MSH-21.1 MSH-21.2 MSH-21.3 MSH-21.4

# Patient names are not reported to CDC: only the name type may be sent (~^^^^^^U).
forbid PID-5.1

# A coded ethnic group names its coding system.
require PID-22.3 when PID-22.1

# Qualitative results are SNOMED CT codes from the PHLIP result value set.
values PHLIP_RESULT 260373001 260415000 419984006 455371000124106 10828004 260385009 82334004 720735008 125154007 373121007 42425007
in OBX-5.1 PHLIP_RESULT when OBX-2 = CWE,CE
require OBX-5.3 when OBX-2 = CWE,CE

# OBX with the same observation identifier under one OBR are told apart by OBX-4.
distinguish OBX-3.1 by OBX-4
