"""The v1 controllers this machine does not mount (net_cls, net_prio, hugetlb, rdma), against a
FAKE: plain files shaped like those v1 hierarchies, since mounting new hierarchies would change
the machine. The kernel would create these files on mkdir; the fake holds a fresh cgroup's values.
(hugepageLimits and rdma run for real in the v2 lane, where the controllers exist.)"""
from __future__ import annotations

import os

import pytest

FILES = {
    "net_cls": {"net_cls.classid": "0"},
    "net_prio": {"net_prio.ifpriomap": "lo 0\neth0 0\n"},
    "hugetlb": {"hugetlb.2MB.limit_in_bytes": "9223372036854771712", "hugetlb.2MB.usage_in_bytes": "2097152",
                "hugetlb.2MB.max_usage_in_bytes": "4194304", "hugetlb.2MB.failcnt": "1"},
    "rdma": {"rdma.max": ""},
}


@pytest.fixture
def fake_v1(tmp_path):
    from nsbox.cgroups import Cgroup
    directories = {}
    for controller, files in FILES.items():
        directory = tmp_path / controller / "nsbox-test" / "c1"
        directory.mkdir(parents=True)
        for name, text in files.items():
            (directory / name).write_text(text)
        directories[controller] = str(directory)
    return Cgroup("nsbox-test/c1", directories, None, None)


def read(cg, controller: str, name: str) -> str:
    with open(os.path.join(cg.v1[controller], name)) as file:
        return file.read()


def test_network_hugepages_and_rdma_go_to_their_v1_files(fake_v1):
    fake_v1.apply({"network": {"classID": 0x100001, "priorities": [{"name": "eth0", "priority": 5}]},
                   "hugepageLimits": [{"pageSize": "2MB", "limit": 8 << 20}],
                   "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}}})
    assert read(fake_v1, "net_cls", "net_cls.classid") == str(0x100001)
    assert read(fake_v1, "net_prio", "net_prio.ifpriomap") == "eth0 5"
    assert read(fake_v1, "hugetlb", "hugetlb.2MB.limit_in_bytes") == str(8 << 20)
    assert read(fake_v1, "rdma", "rdma.max") == "mlx5_1 hca_handle=3 hca_object=10000"


def test_a_page_size_the_host_lacks_is_named(fake_v1):
    from nsbox.errors import CgroupError
    with pytest.raises(CgroupError, match=r"^linux.resources.hugepageLimits\[0\]: this host has no "
                                          r"hugetlb.1GB.limit_in_bytes"):
        fake_v1.apply({"hugepageLimits": [{"pageSize": "1GB", "limit": 1 << 30}]})


def test_hugetlb_stats(fake_v1):
    assert fake_v1.stats()["hugetlb"] == {"2MB": {"usage": 2097152, "max": 4194304, "failcnt": 1}}
