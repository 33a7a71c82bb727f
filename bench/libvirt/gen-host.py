#!/usr/bin/env python3
"""Writes a libvirt test-driver host file (for test:///ABS/PATH) with N running domains in
a realistic mix: plain ballooned VMs, hugepage-backed VMs with strict numatune, VMs with a
virtio-mem device, and some with balloon stats off. Usage: gen-host.py N OUT.xml"""
import sys
from xml.sax.saxutils import escape

n, out = int(sys.argv[1]), sys.argv[2]
parts = ["<node>\n"]
for i in range(n):
    kind = i % 4
    name = escape(f"vm-{i:04d}" if i % 50 else f'vm "{i:04d}" é')  # some names need escaping
    mem_mib = 1024 * (1 + i % 8)
    extra, devices = "", ""
    period = 0 if i % 10 == 0 else 5
    if kind == 1:
        extra = ("<memoryBacking><hugepages><page size='2' unit='M'/></hugepages></memoryBacking>"
                 f"<numatune><memory mode='strict' nodeset='{i % 2}'/></numatune>")
    if kind == 2:
        extra = (f"<maxMemory slots='8' unit='MiB'>{mem_mib * 4}</maxMemory>"
                 f"<cpu><numa><cell id='0' cpus='0-1' memory='{mem_mib}' unit='MiB'/></numa></cpu>")
        devices = ("<memory model='virtio-mem'><target><size unit='MiB'>1024</size><node>0</node>"
                   "<block unit='MiB'>2</block><requested unit='MiB'>512</requested></target></memory>")
        mem_mib += 1024  # <memory> includes the device
    parts.append(
        f"<domain type='test'><name>{name}</name>"
        f"<uuid>b0000000-0000-4000-8000-{i:012d}</uuid>"
        f"<memory unit='MiB'>{mem_mib}</memory><currentMemory unit='MiB'>{mem_mib}</currentMemory>"
        f"<vcpu>2</vcpu>{extra}<os><type>hvm</type></os>"
        f"<devices><memballoon model='virtio'><stats period='{period}'/></memballoon>{devices}</devices>"
        "</domain>\n")
parts.append("</node>\n")
with open(out, "w") as f:
    f.write("".join(parts))
