package com.example;

public final class App {
    public static void main(String[] args) {
        System.out.println("orders");
    }
}
