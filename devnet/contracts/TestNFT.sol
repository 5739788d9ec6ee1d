// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title TestNFT
/// @notice Minimal ERC-721 (mint, the owner's own transfers, balanceOf, ownerOf, name, symbol).
contract TestNFT {
    string public name;
    string public symbol;

    mapping(uint256 => address) private _owners;
    mapping(address => uint256) private _balances;

    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);

    constructor(string memory name_, string memory symbol_) {
        name = name_;
        symbol = symbol_;
    }

    /// @notice Mint token `id` to `to`; open to anyone.
    function mint(address to, uint256 id) external {
        require(to != address(0), "TestNFT: mint to zero address");
        require(_owners[id] == address(0), "TestNFT: token already minted");
        _owners[id] = to;
        _balances[to] += 1;
        emit Transfer(address(0), to, id);
    }

    /// @notice Move the sender's own token `id` (no approvals, no receiver hooks).
    function transferFrom(address from, address to, uint256 id) external {
        require(_owners[id] == from && from == msg.sender, "TestNFT: not the owner");
        require(to != address(0), "TestNFT: transfer to zero address");
        _owners[id] = to;
        _balances[from] -= 1;
        _balances[to] += 1;
        emit Transfer(from, to, id);
    }

    function balanceOf(address owner) external view returns (uint256) {
        require(owner != address(0), "TestNFT: zero address");
        return _balances[owner];
    }

    function ownerOf(uint256 id) external view returns (address) {
        address owner = _owners[id];
        require(owner != address(0), "TestNFT: nonexistent token");
        return owner;
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == 0x01ffc9a7 || interfaceId == 0x80ac58cd || interfaceId == 0x5b5e139f;
    }
}
